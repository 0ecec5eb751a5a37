/**
 * Replication facts the master tells from its agents' reports: a node's role or term changed
 * (ordered by the master, or a leader stepping down on its own), a replica started or finished
 * catching up, a caught-up replica fell behind. Edges only: each fact once per change.
 */
import type { NodeView } from '../../common/grid-types.js';

/** Replication facts (the master turns them into events). */
export interface ReplicationEvents {
  roleChanged?(e: { cluster: string; nodeId: string; agentId: string; role: string; term: number; leader: string }): void;
  catchUpStarted?(e: { cluster: string; nodeId: string; agentId: string; logPosition: number; leaderLogPosition: number }): void;
  catchUpDone?(e: { cluster: string; nodeId: string; agentId: string; logPosition: number; durationMs: number }): void;
  replicationLagging?(e: { cluster: string; nodeId: string; agentId: string; lagRecords: number; logPosition: number; leaderLogPosition: number }): void;
}

/**
 * A caught-up replica this many records behind its leader is lagging (reported once, and again
 * only after it came back within half of it).
 */
export const LAG_THRESHOLD_RECORDS = 1000;

interface Seen {
  role: string;
  term: number;
  catchingUp: boolean;
  catchUpSinceMs: number;
  lagging: boolean;
}

/** Turns successive reports of the running leaders and replicas into {@link ReplicationEvents}. */
export class ReplicationWatch {
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly events: ReplicationEvents,
    private readonly lagThreshold = LAG_THRESHOLD_RECORDS,
  ) {}

  /** Compares `nodes` (every node the master lists) with the previous call's. */
  observe(nodes: readonly NodeView[], nowMs = Date.now()): void {
    const present = new Set<string>();
    for (const n of nodes) {
      const r = n.replication;
      if (r === undefined || n.cluster === '' || n.status !== 'running') continue;
      const key = `${n.agentId}\u0000${n.nodeId}`;
      present.add(key);
      const at = { cluster: n.cluster, nodeId: n.nodeId, agentId: n.agentId };
      const lag = r.role === 'replica' && r.connected && !r.catchingUp ? Math.max(0, r.leaderLogPosition - r.logPosition) : 0;
      const prev = this.seen.get(key);
      const next: Seen = { role: r.role, term: r.term, catchingUp: r.catchingUp, catchUpSinceMs: prev?.catchUpSinceMs ?? nowMs, lagging: prev?.lagging ?? false };
      if (prev !== undefined && (prev.role !== r.role || prev.term !== r.term)) this.events.roleChanged?.({ ...at, role: r.role, term: r.term, leader: r.leader });
      if (r.catchingUp && (prev === undefined || !prev.catchingUp)) {
        next.catchUpSinceMs = nowMs;
        this.events.catchUpStarted?.({ ...at, logPosition: r.logPosition, leaderLogPosition: r.leaderLogPosition });
      } else if (!r.catchingUp && prev?.catchingUp === true) {
        this.events.catchUpDone?.({ ...at, logPosition: r.logPosition, durationMs: nowMs - prev.catchUpSinceMs });
      }
      if (!next.lagging && lag > this.lagThreshold) {
        next.lagging = true;
        this.events.replicationLagging?.({ ...at, lagRecords: lag, logPosition: r.logPosition, leaderLogPosition: r.leaderLogPosition });
      } else if (next.lagging && lag <= this.lagThreshold / 2) {
        next.lagging = false;
      }
      this.seen.set(key, next);
    }
    for (const key of [...this.seen.keys()]) if (!present.has(key)) this.seen.delete(key);
  }
}
