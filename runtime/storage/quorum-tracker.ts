import { leadershipEnded, quorumUnavailable } from './replication-errors.js';

interface Waiter {
  readonly position: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * What a leader knows of its replicas' durable positions in the current term, and the writes that
 * wait on them. The commit position is the highest position at least `quorum` replicas hold: a
 * replica's ack is a prefix of the leader's log (the replication handshake checked it), so holding
 * position p means holding every record up to p.
 */
export class QuorumTracker {
  private readonly acked = new Map<string, number>();
  private readonly waiters = new Set<Waiter>();
  private committed = 0;
  /** Told each time the commit position rises. */
  onCommit: ((position: number) => void) | undefined;

  constructor(private quorum: number) {}

  /** Changes the quorum; writes waiting are judged by the new one. */
  setQuorum(quorum: number): void {
    this.quorum = quorum;
    this.recompute();
  }

  /** Highest position at least `quorum` replicas hold (0 when fewer replicas have acked). */
  get commitPosition(): number {
    return this.committed;
  }

  /** The durable position `replicaId` reported (0 when none). */
  ackedBy(replicaId: string): number {
    return this.acked.get(replicaId) ?? 0;
  }

  /** Records a replica's durable position; it never goes back within a term. */
  ack(replicaId: string, position: number): void {
    if (position <= (this.acked.get(replicaId) ?? 0)) return;
    this.acked.set(replicaId, position);
    this.recompute();
  }

  /**
   * Forgets a replica process that is gone (a newer process of its node streams now). The commit
   * position never goes back: what was committed stays committed.
   */
  forget(replicaId: string): void {
    this.acked.delete(replicaId);
  }

  /** Forgets every ack (a new term: positions acked before are not known to match the new log). */
  reset(): void {
    this.acked.clear();
    this.committed = 0;
  }

  /**
   * Each node's durable position: the furthest of its processes (two copies of a moving replica
   * count once, never twice toward the quorum). A key's node id ends at the first NUL (see the
   * replication source's session keys); a key without one is its own node.
   */
  private byNode(): number[] {
    const nodes = new Map<string, number>();
    for (const [key, position] of this.acked) {
      const cut = key.indexOf('\u0000');
      const node = cut < 0 ? key : key.slice(0, cut);
      nodes.set(node, Math.max(nodes.get(node) ?? 0, position));
    }
    return [...nodes.values()];
  }

  private recompute(): void {
    const sorted = this.byNode().sort((a, b) => b - a);
    const commit = sorted.length >= this.quorum ? sorted[this.quorum - 1]! : 0;
    if (commit <= this.committed) return;
    this.committed = commit;
    this.onCommit?.(commit);
    for (const w of this.waiters) {
      if (w.position > commit) continue;
      clearTimeout(w.timer);
      this.waiters.delete(w);
      w.resolve();
    }
  }

  /**
   * Resolves once `quorum` replicas hold `position`; fails with QUORUM_UNAVAILABLE after
   * `timeoutMs`.
   */
  waitFor(position: number, timeoutMs: number): Promise<void> {
    if (position <= this.committed) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        const holding = this.byNode().filter((p) => p >= position).length;
        reject(quorumUnavailable(position, this.quorum, holding, timeoutMs));
      }, timeoutMs);
      const w: Waiter = { position, resolve, reject, timer };
      this.waiters.add(w);
    });
  }

  /** Fails every waiting write (the node stops leading, or stops). */
  failAll(why: string): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(leadershipEnded(w.position, why));
    }
    this.waiters.clear();
  }
}
