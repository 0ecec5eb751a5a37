/**
 * Which role every RPC needs: the one table the servers consult (issue 14). A service whose method
 * is missing here is refused when the server starts, so no call goes unchecked by omission.
 *
 * `admin` ⊇ `operator` ⊇ `reader`; `agent`, `master` and `node` are separate (an agent acts only as itself;
 * only the master drives agents). The legacy shared token passes every check.
 */
import type { GridRole } from '../../client/transport.js';

/** A role a caller needs: `none` (the request authenticates itself: Join) or `any` certificate. */
export type Need = GridRole | 'none' | 'any';

/** What a method requires: a role (possibly read from the request), and for agents the id acted for. */
export interface Requirement {
  readonly role: Need | ((request: unknown) => Need);
  /** The agent id the request acts for; an `agent` caller must be that agent. */
  readonly actsFor?: (request: unknown) => string | undefined;
  /** Roles outside the `role`'s rank that may call too. */
  readonly alsoRoles?: readonly GridRole[];
}

const field = (name: string) => (req: unknown): string | undefined => {
  const v = (req as Record<string, unknown> | null)?.[name];
  return typeof v === 'string' ? v : undefined;
};

const AGENT_SELF: Requirement = { role: 'agent', actsFor: field('agentId') };
const READER: Requirement = { role: 'reader' };
const OPERATOR: Requirement = { role: 'operator' };
const ADMIN: Requirement = { role: 'admin' };
const MASTER: Requirement = { role: 'master' };
const AGENT: Requirement = { role: 'agent' };
const NODE: Requirement = { role: 'node' };
const STORAGE_WRITE: Requirement = { role: 'operator', alsoRoles: ['master'] };

/** RPC path (`/package.Service/Method`) → requirement. */
export const RPC_ROLES: Readonly<Record<string, Requirement>> = {
  // Agents' own lifecycle: the request's agent id must be the caller's.
  '/sutra.grid.v1.GridMaster/RegisterAgent': {
    role: 'agent',
    actsFor: (req) => field('agentId')((req as { agent?: unknown } | null)?.agent),
  },
  '/sutra.grid.v1.GridMaster/Heartbeat': AGENT_SELF,
  '/sutra.grid.v1.GridMaster/HeartbeatStream': AGENT_SELF,
  '/sutra.grid.v1.GridMaster/UnregisterAgent': AGENT_SELF,
  '/sutra.grid.v1.GridMaster/ReportNodeEvents': AGENT_SELF,
  // Reading.
  '/sutra.grid.v1.GridMaster/GetStorageNodeStatus': READER,
  '/sutra.grid.v1.GridMaster/ListAgents': READER,
  '/sutra.grid.v1.GridMaster/ListNodes': READER,
  '/sutra.grid.v1.GridMaster/GetClusterStatus': READER,
  '/sutra.grid.v1.GridMaster/GetSpec': READER,
  '/sutra.grid.v1.GridMaster/ListEvents': READER,
  '/sutra.grid.v1.GridMaster/WatchEvents': READER,
  // A dry-run apply is a plan: a reader may ask for it.
  '/sutra.grid.v1.GridMaster/ApplySpec': { role: (req) => ((req as { dryRun?: unknown } | null)?.dryRun === true ? 'reader' : 'operator') },
  // Changing the grid.
  '/sutra.grid.v1.GridMaster/SpawnStorageNode': OPERATOR,
  '/sutra.grid.v1.GridMaster/StopStorageNode': OPERATOR,
  '/sutra.grid.v1.GridMaster/DeleteSpec': OPERATOR,
  '/sutra.grid.v1.GridMaster/CordonAgent': OPERATOR,
  '/sutra.grid.v1.GridMaster/UncordonAgent': OPERATOR,
  '/sutra.grid.v1.GridMaster/DrainAgent': OPERATOR,
  '/sutra.grid.v1.GridMaster/PromoteNode': OPERATOR,
  '/sutra.grid.v1.GridMaster/RestartNode': OPERATOR,
  // Credentials.
  '/sutra.grid.v1.GridSecurity/CreateJoinToken': ADMIN,
  '/sutra.grid.v1.GridSecurity/RevokeCredential': ADMIN,
  '/sutra.grid.v1.GridSecurity/RevokeJoinToken': ADMIN,
  '/sutra.grid.v1.GridSecurity/Join': { role: 'none' },
  '/sutra.grid.v1.GridSecurity/RenewCertificate': { role: 'any' },
  // An agent asks for its nodes' certificates.
  '/sutra.grid.v1.GridSecurity/IssueNodeCertificate': { role: 'agent' },
  // The master driving an agent.
  '/sutra.grid.v1.GridAgent/SpawnNode': MASTER,
  '/sutra.grid.v1.GridAgent/StopNode': MASTER,
  '/sutra.grid.v1.GridAgent/GetNodeStatus': MASTER,
  '/sutra.grid.v1.GridAgent/ListNodes': MASTER,
  '/sutra.grid.v1.GridAgent/ConfigureNode': MASTER,
  // A storage node under mutual TLS: clients read and write its data, its agent drives its role and
  // lease, and other nodes (certificates of role node) may only replicate.
  '/sutra.grid.v1.StorageService/QueryConcept': READER,
  '/sutra.grid.v1.StorageService/GetNeighbors': READER,
  // The master writes too: it mirrors its events into a storage-server (`--event-storage`).
  '/sutra.grid.v1.StorageService/LearnConcept': STORAGE_WRITE,
  '/sutra.grid.v1.StorageService/LearnAssociation': STORAGE_WRITE,
  '/sutra.grid.v1.StorageControl/SetRole': AGENT,
  '/sutra.grid.v1.StorageControl/GetReplicationStatus': AGENT,
  '/sutra.grid.v1.StorageControl/RenewLease': AGENT,
  '/sutra.grid.v1.StorageReplication/Replicate': NODE,
  '/sutra.grid.v1.StorageReplication/AckReplication': NODE,
};

const RANK: Partial<Record<GridRole, number>> = { reader: 1, operator: 2, admin: 3 };

/** True when a caller with `has` may call a method needing `need`. */
export function roleSatisfies(has: GridRole, need: Need): boolean {
  if (need === 'none' || need === 'any') return true;
  if (has === need) return true;
  // A follower master forwards the reads it cannot answer to the leader, as itself.
  if (has === 'master' && need === 'reader') return true;
  const h = RANK[has];
  const n = RANK[need];
  return h !== undefined && n !== undefined && h >= n;
}

/** The requirement of `path`, or undefined for a method the table does not know. */
export function requirementOf(path: string): Requirement | undefined {
  return RPC_ROLES[path];
}
