/**
 * The GridSecurity service (issue 14): join tokens, joining, renewals and revocations, over the
 * master's {@link GridPki}. Served next to GridMaster, behind the same call guard and role table.
 */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { GridSecurityService } from '../../../proto/gen/sutra/grid/v1/security.pb.js';
import type { CallGuard } from '../../common/call-guard.js';
import { callerOf } from '../../common/call-guard.js';
import { wrapService } from '../../common/grpc-server.js';
import { optionalId } from '../../common/grpc-edge.js';
import { RuntimeError } from '../../errors.js';
import type { GridPki } from '../pki/grid-pki.js';
import type { Logger } from '../../common/logger.js';

interface Req {
  role: string;
  api: boolean;
  ttlMs: number;
  token: string;
  name: string;
  csrPem: string;
  serial: string;
  agentId: string;
  tokenId: string;
  nodeId: string;
}

const MAX_TOKEN_CHARS = 256;

/**
 * Whether agent `agentId` runs node `nodeId` (or is being asked to start it).
 * @throws RuntimeError MASTER_NOT_LEADER at a follower, which knows no placement.
 */
export type NodePlacement = (nodeId: string, agentId: string) => boolean;

/**
 * GridSecurity ready for `startGrpcServer`.
 *
 * Any master serves every call of it, leader or follower: token create and revoke, joins and
 * revocations are writes, but to the credential store, not to the state the leader fences. On
 * etcd each is its own key, and using up a join token is a transaction, so masters never undo
 * each other's writes and two joins with one token cannot both win. This is what users of
 * Nomad or Kubernetes expect of a server (any one takes `nomad acl token create`, `kubeadm token
 * create`), and an agent joining during a failover, or given the masters in any order, needs no
 * leader. The exception is a node certificate: only the leader knows where nodes are placed.
 */
export function createSecurityService(pki: GridPki, guard: CallGuard, logger?: Logger, placement?: NodePlacement): { definition: typeof GridSecurityService; impl: UntypedServiceImplementation } {
  const handlers = {
    createJoinToken: async (req: Req, call: object) => {
      const t = await pki.createJoinToken(req.role, req.ttlMs, req.api);
      // The token itself is never logged: its id is enough to find and revoke it.
      logger?.info(`${req.api ? 'API' : 'join'} token ${t.id} for role ${t.role} created by ${callerOf(call)?.name ?? '?'}, expires ${new Date(t.expiresAtMs).toISOString()}`);
      return { token: t.token, tokenId: t.id, expiresAtMs: t.expiresAtMs, caHash: pki.caHash };
    },
    join: async (req: Req) => {
      if (req.token.length > MAX_TOKEN_CHARS) throw new RuntimeError('INVALID_ARGUMENT', `token: longer than ${MAX_TOKEN_CHARS} characters`, { field: 'token' });
      const out = await pki.join(req.token, req.name, req.csrPem);
      logger?.info(`${out.role} ${req.name} joined with a join token`);
      return out;
    },
    renewCertificate: (req: Req, call: object) => {
      const caller = callerOf(call);
      if (caller === undefined) throw new RuntimeError('UNAUTHENTICATED', 'RenewCertificate: no caller');
      return pki.renew(caller, req.csrPem);
    },
    revokeCredential: async (req: Req) => {
      const serial = req.serial.trim();
      const agentId = optionalId('agent_id', req.agentId);
      if (serial === '' && agentId === '') throw new RuntimeError('INVALID_ARGUMENT', 'serial or agent_id: one is required', { field: 'serial' });
      if (serial !== '' && !/^[0-9A-Fa-f]{2,64}$/.test(serial)) throw new RuntimeError('INVALID_ARGUMENT', 'serial: must be hex', { field: 'serial' });
      // In force here when this returns; at the other masters once their etcd watch delivers it.
      await pki.registry.revoke({ serial: serial === '' ? undefined : serial, agentId: agentId === '' ? undefined : agentId });
      logger?.warn(`revoked ${serial !== '' ? `serial ${serial}` : ''}${agentId !== '' ? ` agent ${agentId}` : ''}`);
      return {};
    },
    issueNodeCertificate: async (req: Req, call: object) => {
      const caller = callerOf(call);
      const nodeId = optionalId('node_id', req.nodeId);
      // The shared token passes every check (it has no agent id to check the placement against).
      if (caller !== undefined && !caller.legacy && placement !== undefined && nodeId !== '' && !placement(nodeId, caller.name)) {
        throw new RuntimeError('PERMISSION_DENIED', `node_id: node ${JSON.stringify(nodeId)} is not placed on agent ${JSON.stringify(caller.name)}; a node certificate is issued only to the agent that runs the node`, { field: 'node_id' });
      }
      const out = await pki.issueNode(req.nodeId, req.csrPem, caller?.legacy === false ? caller.name : undefined);
      logger?.info(`node certificate for ${req.nodeId} issued to ${caller?.name ?? '?'}`);
      return out;
    },
    revokeJoinToken: async (req: Req) => {
      if (!/^[0-9a-f]{12}$/.test(req.tokenId)) throw new RuntimeError('INVALID_ARGUMENT', 'token_id: must be the 12 hex digits printed by token create', { field: 'token_id' });
      if (!(await pki.registry.revokeToken(req.tokenId))) throw new RuntimeError('AGENT_NOT_FOUND', `token_id: no unused token ${req.tokenId}`, { field: 'token_id' });
      return {};
    },
  };
  return {
    definition: GridSecurityService,
    impl: wrapService(GridSecurityService, handlers as unknown as Record<string, (...args: never[]) => unknown>, guard),
  };
}
