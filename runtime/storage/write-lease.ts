/**
 * A leader's write lease. In a grid, the master fails a leader over once its agent has been silent
 * for offlineAfter; the agent renews its leaders' leases only after the master answers a heartbeat,
 * each for less than offlineAfter (see runtime/agent/lease-keeper.ts). So a leader cut off from the
 * grid stops taking writes before another node can be promoted: at most one node accepts writes.
 *
 * Time is the process's monotonic clock (performance.now): a wall-clock step neither extends nor
 * cuts a lease. A node started without a lease (standalone, or by hand) has none to lapse.
 */
import { RuntimeError } from '../errors.js';

/** Longest lease one renewal may grant (the grid's offlineAfter is far shorter). */
export const MAX_LEASE_MS = 600_000;

/** A leader's lease: for one term, until a monotonic instant. */
export class WriteLease {
  private term = 0;
  private untilMs = 0;
  /** Whether the lapse was logged (once per lapse). */
  private lapseLogged = false;

  /**
   * @param enabled false: no lease (every check passes)
   * @param now the monotonic clock, in ms (injected by unit tests)
   */
  constructor(
    readonly enabled: boolean,
    private readonly log: (line: string) => void,
    // The global, not node:perf_hooks: it is loaded on first use, so a node without a lease never loads it.
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Grants the lease of `term` for `ms` from now. Within a term a lease only grows: renewals may
   * overlap and arrive out of order, and each is safe up to its own end.
   */
  grant(term: number, ms: number): void {
    const wasHeld = this.held(term);
    const until = this.now() + ms;
    this.untilMs = term === this.term ? Math.max(this.untilMs, until) : until;
    this.term = term;
    if (!wasHeld && this.lapseLogged) this.log(`write lease of term ${term} granted: taking writes`);
    this.lapseLogged = false;
  }

  /** Whether the lease of `term` is held now. */
  held(term: number): boolean {
    return !this.enabled || (this.term === term && this.now() < this.untilMs);
  }

  /** Milliseconds left of the lease of `term` (0 when not held; Infinity without a lease). */
  remainingMs(term: number): number {
    if (!this.enabled) return Infinity;
    return this.term === term ? Math.max(0, this.untilMs - this.now()) : 0;
  }

  /**
   * @throws RuntimeError LEASE_EXPIRED (UNAVAILABLE) when the lease of `term` is not held: a write
   * must not be taken, nor acknowledged, by a leader the grid may already have replaced
   */
  check(term: number, what: string): void {
    if (this.held(term)) return;
    const never = this.term !== term;
    if (!this.lapseLogged) {
      this.lapseLogged = true;
      this.log(never ? `no write lease for term ${term} yet: refusing writes until the agent renews it` : `write lease of term ${term} lapsed: refusing writes until the agent renews it`);
    }
    const why = never ? `this leader holds no write lease for term ${term} yet` : `this leader's write lease for term ${term} expired`;
    throw new RuntimeError('LEASE_EXPIRED', `leader lease expired: ${what} refused: ${why} (cut off from the grid? another node may lead now)`, { term });
  }
}
