import { ConfigError } from '../errors.js';
import { addressProblem, durationFlag, idFlag, intFlag } from './flag-values.js';

/** A storage node's part in its cluster. `standalone` replicates nothing (the default). */
export type StorageRoleName = 'standalone' | 'leader' | 'replica';

/** When a leader acknowledges a write: durable on itself (`async`), or on itself and a quorum of replicas (`sync`). */
export type DurabilityName = 'async' | 'sync';

/** The replication flags as given on the command line. */
export interface ReplicationFlags {
  readonly grid?: string | undefined;
  readonly cluster?: string | undefined;
  readonly nodeId?: string | undefined;
  readonly role?: string | undefined;
  readonly leader?: string | undefined;
  readonly term?: string | undefined;
  readonly durability?: string | undefined;
  readonly syncQuorum?: string | undefined;
  readonly syncTimeout?: string | undefined;
  readonly writeLeaseUntil?: string | undefined;
}

/** Checked replication options of a storage node. */
export interface ReplicationOptions {
  /** Names reported in the replication status; empty when not given. */
  readonly grid: string;
  readonly cluster: string;
  /** This node's id; a replica gives it to its leader. Required for a replica. */
  readonly nodeId: string;
  /** @default 'standalone' */
  readonly role: StorageRoleName;
  /**
   * HOST:PORT of the leader (a replica), empty otherwise. A replica started without one (its leader
   * has no address yet) follows nobody and refuses writes until SetRole names its leader.
   */
  readonly leader: string;
  /** Leadership term the role belongs to. @default 1 for a leader or replica, 0 standalone */
  readonly term: number;
  /** @default 'async' */
  readonly durability: DurabilityName;
  /** Replicas a sync write waits for. @default 1 */
  readonly syncQuorum: number;
  /** How long a sync write waits for its quorum before failing UNAVAILABLE. @default 5000 */
  readonly syncTimeoutMs: number;
  /**
   * Wall-clock time (Unix ms) until which the node, leading its starting term, may take writes; then
   * only while StorageControl.RenewLease extends its lease (0: not before the first renewal).
   * Undefined: the node has no lease, and a leader's writes never lapse (a node run by hand).
   */
  readonly writeLeaseUntilMs?: number | undefined;
}

/** The highest term: terms travel as uint64 but stay exact JavaScript integers. */
export const MAX_TERM = Number.MAX_SAFE_INTEGER;
/** The largest sync quorum (a cluster has at most 5,000 nodes; waiting on more than 1,000 is a mistake). */
export const MAX_SYNC_QUORUM = 1000;
/** Longest a leader refuses writes for one handover (SetRole hand_over_ms): past it, a handover the grid abandoned ends. */
export const MAX_HAND_OVER_MS = 60_000;
/** Default of `--sync-timeout`. */
export const DEFAULT_SYNC_TIMEOUT_MS = 5000;

/** Today's behaviour: no replication. */
export const STANDALONE: ReplicationOptions = {
  grid: '',
  cluster: '',
  nodeId: '',
  role: 'standalone',
  leader: '',
  term: 0,
  durability: 'async',
  syncQuorum: 1,
  syncTimeoutMs: DEFAULT_SYNC_TIMEOUT_MS,
};

const ROLES: readonly StorageRoleName[] = ['standalone', 'leader', 'replica'];

function oneOf<T extends string>(value: string, flag: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new ConfigError(flag, `expected ${allowed.join(', ')}, got ${JSON.stringify(value.slice(0, 64))}`);
  return value as T;
}

/**
 * Validates the replication flags; every refusal names the flag. A replica needs `--node-id` (and
 * follows nobody until told its leader when `--leader` is missing); `--leader` is refused on any other role, and `--durability sync` on a standalone node
 * (it has no replicas to wait for), and so is `--write-lease-until` (it has no lease).
 */
export function compileReplicationFlags(flags: ReplicationFlags): ReplicationOptions {
  const role = flags.role === undefined ? 'standalone' : oneOf(flags.role, '--role', ROLES);
  const nodeId = flags.nodeId === undefined ? '' : idFlag(flags.nodeId, '--node-id');
  if (role === 'replica' && nodeId === '') throw new ConfigError('--node-id', 'is required with --role replica (the leader tracks each replica by it)');
  let leader = '';
  if (flags.leader !== undefined) {
    if (role !== 'replica') throw new ConfigError('--leader', `is for --role replica only (this node is ${role})`);
    const problem = addressProblem(flags.leader);
    if (problem !== undefined) throw new ConfigError('--leader', problem);
    leader = flags.leader;
  }
  const term = flags.term === undefined ? (role === 'standalone' ? 0 : 1) : intFlag(flags.term, '--term', role === 'standalone' ? 0 : 1, MAX_TERM);
  const durability = flags.durability === undefined ? 'async' : oneOf(flags.durability, '--durability', ['async', 'sync'] as const);
  if (durability === 'sync' && role === 'standalone') throw new ConfigError('--durability', 'sync needs --role leader or replica (a standalone node has no replicas)');
  if (flags.syncQuorum !== undefined && durability !== 'sync') throw new ConfigError('--sync-quorum', 'only applies with --durability sync');
  if (flags.syncTimeout !== undefined && durability !== 'sync') throw new ConfigError('--sync-timeout', 'only applies with --durability sync');
  if (flags.writeLeaseUntil !== undefined && role === 'standalone') throw new ConfigError('--write-lease-until', 'needs --role leader or replica (a standalone node has no lease)');
  return {
    grid: flags.grid === undefined ? '' : idFlag(flags.grid, '--grid'),
    cluster: flags.cluster === undefined ? '' : idFlag(flags.cluster, '--cluster'),
    nodeId,
    role,
    leader,
    term,
    durability,
    syncQuorum: flags.syncQuorum === undefined ? 1 : intFlag(flags.syncQuorum, '--sync-quorum', 1, MAX_SYNC_QUORUM),
    syncTimeoutMs: flags.syncTimeout === undefined ? DEFAULT_SYNC_TIMEOUT_MS : durationFlag(flags.syncTimeout, '--sync-timeout', 10, 600_000),
    writeLeaseUntilMs: flags.writeLeaseUntil === undefined ? undefined : intFlag(flags.writeLeaseUntil, '--write-lease-until', 0, Number.MAX_SAFE_INTEGER),
  };
}
