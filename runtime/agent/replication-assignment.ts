/**
 * The replication part of a node's launch: checked at the agent's edge (SpawnNode, ConfigureNode)
 * before anything runs, kept in the node's record, and turned into storage-server flags here. The
 * agent passes a node no flag value from anywhere else: the binary comes from its config, the rest
 * from these checked fields.
 */
import { RuntimeError } from '../errors.js';
import type { ConfigureRequest, ReplicationSettings } from '../common/grid-types.js';
import { addressProblem } from '../storage/flag-values.js';
import { MAX_HAND_OVER_MS, MAX_SYNC_QUORUM, MAX_TERM } from '../storage/replication-options.js';

/** A node's replication settings as its record keeps them (leader and replica roles only). */
export interface NodeReplicationSpec extends ReplicationSettings {
  /** The grid's name ('' for none). */
  readonly grid: string;
}

/** Shortest and longest sync timeout passed to a node (the storage-server's own bounds). */
const MIN_SYNC_TIMEOUT_MS = 10;
const MAX_SYNC_TIMEOUT_MS = 600_000;

/** Grid and cluster names as the storage-server takes them. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Any role is a label (leader and replica also mean replication); bounded, printable. */
const ROLE = /^[A-Za-z0-9._-]{0,63}$/;

/** Whether a node in `role` takes part in replication (gets replication flags, reports its status). */
export function isReplicated(role: string): role is 'leader' | 'replica' {
  return role === 'leader' || role === 'replica';
}

function bad(field: string, why: string, nodeId: string): RuntimeError {
  return new RuntimeError('INVALID_ARGUMENT', `${field}: ${why}`, { field, nodeId });
}

function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}...` : value);
}

/** Bounds of every replication field; `role` decides which may be set. */
function checkSettings(s: ReplicationSettings, role: string, nodeId: string): ReplicationSettings {
  if (!Number.isSafeInteger(s.term) || s.term < 0 || s.term > MAX_TERM) throw bad('term', `${s.term} is not a term (0-${MAX_TERM})`, nodeId);
  if (s.leaderAddress !== '') {
    if (role !== 'replica') throw bad('leader_address', `only a replica has a leader (role is ${quote(role)})`, nodeId);
    const problem = addressProblem(s.leaderAddress);
    if (problem !== undefined) throw bad('leader_address', problem, nodeId);
  }
  if (s.durability !== '' && s.durability !== 'async' && s.durability !== 'sync') throw bad('durability', `expected async or sync, got ${quote(s.durability)}`, nodeId);
  if (!Number.isInteger(s.syncQuorum) || s.syncQuorum < 0 || s.syncQuorum > MAX_SYNC_QUORUM) throw bad('sync_quorum', `${s.syncQuorum} is out of range 0-${MAX_SYNC_QUORUM}`, nodeId);
  if (!Number.isInteger(s.syncTimeoutMs) || (s.syncTimeoutMs !== 0 && (s.syncTimeoutMs < MIN_SYNC_TIMEOUT_MS || s.syncTimeoutMs > MAX_SYNC_TIMEOUT_MS))) {
    throw bad('sync_timeout_ms', `${s.syncTimeoutMs} is out of range ${MIN_SYNC_TIMEOUT_MS}-${MAX_SYNC_TIMEOUT_MS} (0: the node's default)`, nodeId);
  }
  return { leaderAddress: s.leaderAddress, term: s.term, durability: s.durability, syncQuorum: s.syncQuorum, syncTimeoutMs: s.syncTimeoutMs };
}

/**
 * A spawn's role and replication fields, checked. @returns what the record keeps for a leader or
 * replica, undefined for any other role (which must leave the replication fields unset).
 * @throws RuntimeError INVALID_ARGUMENT naming the field
 */
export function checkSpawnReplication(req: ReplicationSettings & { readonly role: string; readonly cluster: string; readonly grid: string }, nodeId: string): NodeReplicationSpec | undefined {
  if (!ROLE.test(req.role)) throw bad('role', `must be at most 63 letters, digits, ".", "_" or "-" (leader, replica, standalone), got ${quote(req.role)}`, nodeId);
  if (!isReplicated(req.role)) {
    const set = req.term !== 0 || req.leaderAddress !== '' || req.durability !== '' || req.syncQuorum !== 0 || req.syncTimeoutMs !== 0 || req.grid !== '';
    if (set) throw bad('role', `replication fields (grid, term, leader_address, durability, sync_*) need role leader or replica, got ${quote(req.role)}`, nodeId);
    return undefined;
  }
  if (req.grid !== '' && !NAME.test(req.grid)) throw bad('grid', `must be 1-63 letters, digits, ".", "_" or "-", got ${quote(req.grid)}`, nodeId);
  if (req.cluster !== '' && !NAME.test(req.cluster)) throw bad('cluster', `must be 1-63 letters, digits, ".", "_" or "-", got ${quote(req.cluster)}`, nodeId);
  return { grid: req.grid, ...checkSettings(req, req.role, nodeId) };
}

/**
 * A ConfigureNode request against the node's record: the node must have a replication role, the
 * new role is leader or replica, the term at least 1, and a replica names its leader. Empty and zero
 * values keep what the record holds. @returns the record's new settings
 * @throws RuntimeError INVALID_ARGUMENT naming the field; NOT_REPLICATED for a node spawned without
 * a replication role
 */
export function checkConfigure(req: ConfigureRequest, current: { readonly role: string; readonly replication: NodeReplicationSpec | undefined }): NodeReplicationSpec {
  const nodeId = req.nodeId;
  if (!isReplicated(current.role)) {
    throw new RuntimeError('NOT_REPLICATED', `node "${nodeId}" was spawned ${current.role === '' ? 'without a role' : `as ${current.role}`}: only leader and replica nodes take a replication role`, { nodeId });
  }
  if (!isReplicated(req.role)) throw bad('role', `expected leader or replica, got ${quote(req.role)}`, nodeId);
  const s = checkSettings(req, req.role, nodeId);
  if (s.term < 1) throw bad('term', 'must be at least 1', nodeId);
  if (req.role === 'replica' && s.leaderAddress === '') throw bad('leader_address', 'required for a replica (HOST:PORT of its leader)', nodeId);
  const handOverMs = req.handOverMs ?? 0;
  if (!Number.isInteger(handOverMs) || handOverMs < 0 || handOverMs > MAX_HAND_OVER_MS) throw bad('hand_over_ms', `${handOverMs} is out of range 0-${MAX_HAND_OVER_MS}`, nodeId);
  if (handOverMs > 0 && req.role !== 'leader') throw bad('hand_over_ms', `only a leader hands over (role is ${quote(req.role)})`, nodeId);
  // A node re-adopted without its settings (a container labelled by an older agent): defaults.
  const cur = current.replication ?? { grid: '', leaderAddress: '', term: 0, durability: '', syncQuorum: 0, syncTimeoutMs: 0 };
  return {
    grid: cur.grid,
    leaderAddress: s.leaderAddress,
    term: s.term,
    durability: s.durability !== '' ? s.durability : cur.durability,
    syncQuorum: s.syncQuorum !== 0 ? s.syncQuorum : cur.syncQuorum,
    syncTimeoutMs: s.syncTimeoutMs !== 0 ? s.syncTimeoutMs : cur.syncTimeoutMs,
  };
}

/**
 * Replication settings read back from where a node's launch was recorded (a container's labels),
 * checked as a spawn's are; undefined when absent or not valid (the node then runs on, with the
 * storage-server's defaults should it restart, and its term.json).
 */
export function recordedReplication(v: unknown, spec: { readonly nodeId: string; readonly role: string; readonly cluster: string }): NodeReplicationSpec | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const str = (k: string): string | undefined => (typeof o[k] === 'string' ? (o[k] as string) : undefined);
  const num = (k: string): number | undefined => (typeof o[k] === 'number' ? (o[k] as number) : undefined);
  const [grid, leaderAddress, durability] = [str('grid'), str('leaderAddress'), str('durability')];
  const [term, syncQuorum, syncTimeoutMs] = [num('term'), num('syncQuorum'), num('syncTimeoutMs')];
  if (grid === undefined || leaderAddress === undefined || durability === undefined || term === undefined || syncQuorum === undefined || syncTimeoutMs === undefined) return undefined;
  try {
    return checkSpawnReplication({ role: spec.role, cluster: spec.cluster, grid, leaderAddress, durability, term, syncQuorum, syncTimeoutMs }, spec.nodeId);
  } catch {
    return undefined;
  }
}

/**
 * The storage-server flags of a node with a replication role (none for any other role, so a node
 * without one starts exactly as before). Quorum and timeout go only with sync durability, the only
 * mode they mean something in (the server refuses them otherwise).
 */
export function replicationArgs(spec: {
  readonly nodeId: string;
  readonly cluster: string;
  readonly role: string;
  readonly replication?: NodeReplicationSpec | undefined;
  readonly writeLeaseUntilMs?: number | undefined;
}): string[] {
  const r = spec.replication;
  if (!isReplicated(spec.role) || r === undefined) return [];
  const args = ['--role', spec.role, '--node-id', spec.nodeId];
  if (r.grid !== '') args.push('--grid', r.grid);
  if (spec.cluster !== '') args.push('--cluster', spec.cluster);
  if (r.term > 0) args.push('--term', String(r.term));
  if (spec.role === 'replica' && r.leaderAddress !== '') args.push('--leader', r.leaderAddress);
  if (r.durability !== '') args.push('--durability', r.durability);
  if (r.durability === 'sync') {
    if (r.syncQuorum > 0) args.push('--sync-quorum', String(r.syncQuorum));
    if (r.syncTimeoutMs > 0) args.push('--sync-timeout', `${r.syncTimeoutMs}ms`);
  }
  if (spec.writeLeaseUntilMs !== undefined) args.push('--write-lease-until', String(Math.max(0, Math.floor(spec.writeLeaseUntilMs))));
  return args;
}
