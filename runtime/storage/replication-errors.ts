/**
 * The refusals of replication, as RuntimeErrors whose codes cross the wire as the right status:
 * NOT_LEADER and STALE_TERM as FAILED_PRECONDITION (the caller must go elsewhere or catch up on
 * terms), QUORUM_UNAVAILABLE as UNAVAILABLE (the write's outcome is unknown; retrying it is safe,
 * writes are idempotent upserts).
 */
import { RuntimeError } from '../errors.js';
import type { StorageRoleName } from './replication-options.js';

/**
 * A write, or a replica's request, reached a node that does not lead. Names the leader when the
 * node knows it.
 */
export function notLeader(role: StorageRoleName, term: number, leader: string): RuntimeError {
  if (role === 'standalone') {
    return new RuntimeError('NOT_LEADER', `this node is standalone in term ${term} (no replication): it serves no replicas`, { leader, term });
  }
  const where = leader !== '' ? `writes go to the leader at ${leader}` : 'the leader is not known here yet';
  return new RuntimeError('NOT_LEADER', `this node is a ${role} in term ${term} and refuses writes: ${where}`, { leader, term });
}

/** A message or assignment from a term below the node's. */
export function staleTerm(what: string, got: number, current: number): RuntimeError {
  return new RuntimeError('STALE_TERM', `${what}: term ${got} is older than this node's term ${current}`, { field: 'term', term: current });
}

/** An assignment within the node's own term that only a later term may make. */
export function needsLaterTerm(what: string, term: number): RuntimeError {
  return new RuntimeError('STALE_TERM', `${what} only in a term above ${term}, this node's term; got ${term}`, { field: 'term', term });
}

/** A sync write whose quorum did not answer in time. */
export function quorumUnavailable(position: number, quorum: number, acked: number, timeoutMs: number): RuntimeError {
  return new RuntimeError(
    'QUORUM_UNAVAILABLE',
    `sync write not acknowledged: ${acked} of the ${quorum} replica(s) it needs had it within ${timeoutMs} ms; ` +
      `it is durable on the leader (log position ${position}) and may still reach the replicas, or be discarded by a failover`,
    { position, quorum },
  );
}

/** A sync write cut short by a role change or a stop. */
export function leadershipEnded(position: number, why: string): RuntimeError {
  return new RuntimeError('QUORUM_UNAVAILABLE', `sync write not acknowledged: ${why} before its quorum answered (log position ${position}); its outcome is unknown`, { position });
}

/** An input that is out of bounds or malformed. */
export function badField(field: string, problem: string): RuntimeError {
  return new RuntimeError('INVALID_ARGUMENT', `${field}: ${problem}`, { field });
}
