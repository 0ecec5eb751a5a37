/**
 * StorageControl and StorageReplication at the wire: requests are bounded and converted to domain
 * values here, answers converted back; the node and its source do the rest.
 */
import type { ServerWritableStream } from '@grpc/grpc-js';
import {
  StorageRole,
  WriteDurability,
  type AckReplicationRequest,
  type AckReplicationResponse,
  type GetReplicationStatusResponse,
  type ReplicateRequest,
  type ReplicateResponse,
  type RenewLeaseRequest,
  type RenewLeaseResponse,
  type ReplicationStatus,
  type SetRoleRequest,
  type SetRoleResponse,
} from '../../proto/gen/sutra/grid/v1/storage.pb.js';
import { requireId } from '../common/grpc-edge.js';
import { addressProblem } from './flag-values.js';
import { badField } from './replication-errors.js';
import { MAX_LEASE_MS } from './write-lease.js';
import { MAX_HAND_OVER_MS, MAX_SYNC_QUORUM, type DurabilityName, type StorageRoleName } from './replication-options.js';
import type { ReplicationNode, ReplicationStatusView, RoleChange } from './replication-node.js';
import type { ReplicateAsk } from './replication-source.js';

const ROLE_OF: Partial<Record<StorageRole, StorageRoleName>> = {
  [StorageRole.STORAGE_ROLE_STANDALONE]: 'standalone',
  [StorageRole.STORAGE_ROLE_LEADER]: 'leader',
  [StorageRole.STORAGE_ROLE_REPLICA]: 'replica',
};
const WIRE_ROLE: Record<StorageRoleName, StorageRole> = {
  standalone: StorageRole.STORAGE_ROLE_STANDALONE,
  leader: StorageRole.STORAGE_ROLE_LEADER,
  replica: StorageRole.STORAGE_ROLE_REPLICA,
};
const WIRE_DURABILITY: Record<DurabilityName, WriteDurability> = { async: WriteDurability.WRITE_DURABILITY_ASYNC, sync: WriteDurability.WRITE_DURABILITY_SYNC };

function leaderField(field: string, value: string, required: boolean): string {
  if (value === '') {
    if (required) throw badField(field, 'required for a replica (HOST:PORT of its leader)');
    return value;
  }
  const problem = addressProblem(value);
  if (problem !== undefined) throw badField(field, problem);
  return value;
}

function positiveTerm(value: number): number {
  if (value < 1) throw badField('term', 'must be at least 1');
  return value;
}

/** A SetRoleRequest as a RoleChange. @throws RuntimeError INVALID_ARGUMENT naming the field */
export function roleChangeFrom(req: SetRoleRequest): RoleChange {
  const role = ROLE_OF[req.role];
  if (role === undefined) throw badField('role', 'required: STORAGE_ROLE_STANDALONE, STORAGE_ROLE_LEADER or STORAGE_ROLE_REPLICA');
  if (role !== 'replica' && req.leader !== '') throw badField('leader', `only a replica has a leader (role is ${role})`);
  const leader = leaderField('leader', req.leader, role === 'replica');
  const term = role === 'standalone' ? req.term : positiveTerm(req.term);
  let durability: DurabilityName | undefined;
  if (req.durability === WriteDurability.WRITE_DURABILITY_ASYNC) durability = 'async';
  else if (req.durability === WriteDurability.WRITE_DURABILITY_SYNC) durability = 'sync';
  else if (req.durability !== WriteDurability.WRITE_DURABILITY_UNSPECIFIED) throw badField('durability', `unknown value ${req.durability}`);
  if (req.syncQuorum > MAX_SYNC_QUORUM) throw badField('sync_quorum', `${req.syncQuorum} is more than ${MAX_SYNC_QUORUM}`);
  if (req.handOverMs > MAX_HAND_OVER_MS) throw badField('hand_over_ms', `${req.handOverMs} is more than ${MAX_HAND_OVER_MS}`);
  if (req.handOverMs > 0 && role !== 'leader') throw badField('hand_over_ms', `only a leader hands over (role is ${role})`);
  return { role, leader, term, durability, syncQuorum: req.syncQuorum === 0 ? undefined : req.syncQuorum, handOverMs: req.handOverMs };
}

/** A ReplicateRequest, checked. @throws RuntimeError INVALID_ARGUMENT naming the field */
export function replicateAskFrom(req: ReplicateRequest): ReplicateAsk {
  const replicaId = requireId('replica_id', req.replicaId);
  const term = positiveTerm(req.term);
  if (req.lastLogTerm > term) throw badField('last_log_term', `${req.lastLogTerm} is past the replica's term ${term}`);
  if (req.fromPosition === 0 && req.lastLogTerm !== 0) throw badField('last_log_term', 'must be 0 for an empty log (from_position 0)');
  return { replicaId, copy: copyField(req.copy), term, fromPosition: req.fromPosition, lastLogTerm: req.lastLogTerm, leader: leaderField('leader', req.leader, false) };
}

/** The wire form of a node's status. */
export function toWireStatus(s: ReplicationStatusView): ReplicationStatus {
  return {
    role: WIRE_ROLE[s.role],
    term: s.term,
    leader: s.leader,
    nodeId: s.nodeId,
    grid: s.grid,
    cluster: s.cluster,
    durability: WIRE_DURABILITY[s.durability],
    syncQuorum: s.syncQuorum,
    logPosition: s.logPosition,
    lastLogTerm: s.lastLogTerm,
    appliedPosition: s.appliedPosition,
    catchingUp: s.catchingUp,
    leaderLogPosition: s.leaderLogPosition,
    connected: s.connected,
    replicas: s.replicas.map((r) => ({ ...r })),
    lastError: s.lastError,
  };
}

/**
 * The lease a RenewLease grants: `lease_ms`, cut to what is left of the call's deadline. The agent
 * sets the deadline to its lease's end, so a renewal held up in flight (its sender paused before
 * the request left) grants no more than its sender meant.
 */
export function leaseOf(req: RenewLeaseRequest, deadline: Date | number | undefined, nowMs = Date.now()): number {
  if (req.leaseMs < 1 || req.leaseMs > MAX_LEASE_MS) throw badField('lease_ms', `${req.leaseMs} is out of range 1-${MAX_LEASE_MS}`);
  const end = deadline instanceof Date ? deadline.getTime() : deadline;
  if (end === undefined || !Number.isFinite(end)) return req.leaseMs;
  return Math.max(0, Math.min(req.leaseMs, Math.floor(end - nowMs)));
}

/** StorageControl's handlers. */
export function controlHandlers(node: ReplicationNode): Record<string, (req: never) => Promise<unknown>> {
  return {
    async setRole(req: SetRoleRequest): Promise<SetRoleResponse> {
      return { status: toWireStatus(await node.setRole(roleChangeFrom(req))) };
    },
    async getReplicationStatus(): Promise<GetReplicationStatusResponse> {
      return { status: toWireStatus(node.status()) };
    },
    async renewLease(req: RenewLeaseRequest, call?: { getDeadline?: () => Date | number }): Promise<RenewLeaseResponse> {
      const term = positiveTerm(req.term);
      const ms = leaseOf(req, call?.getDeadline?.());
      return { leaseMs: ms > 0 ? node.renewLease(term, ms) : 0 };
    },
  };
}

/** StorageReplication's handlers. */
export function replicationHandlers(node: ReplicationNode): Record<string, (req: never) => Promise<unknown>> {
  return {
    async replicate(call: ServerWritableStream<ReplicateRequest, ReplicateResponse>): Promise<void> {
      await node.source.serve(replicateAskFrom(call.request), call);
    },
    async ackReplication(req: AckReplicationRequest): Promise<AckReplicationResponse> {
      const replicaId = requireId('replica_id', req.replicaId);
      return { term: await node.source.ack(replicaId, copyField(req.copy), positiveTerm(req.term), req.position) };
    },
  };
}

const COPY = /^[0-9a-f]{0,32}$/;

/** A replica process's instance id (empty from a replica that sends none). */
function copyField(copy: string): string {
  if (!COPY.test(copy)) throw badField('copy', `must be at most 32 lowercase hex digits, got ${JSON.stringify(copy.slice(0, 40))}`);
  return copy;
}
