/**
 * When to restart a crashed node. A first crash restarts at once (a one-off crash should cost no
 * more than a start); further crashes within the window back off exponentially; more than
 * `maxRestarts` within the window means the node is broken: `failed`.
 */
export interface RestartPolicyOptions {
  /** false = never restart: a crash is final. */
  readonly enabled: boolean;
  /** Restarts allowed within `windowMs`. @default 3 */
  readonly maxRestarts: number;
  readonly windowMs: number;
  /** Delay before the second restart in a window; doubles after that. @default 200 */
  readonly backoffMs: number;
  readonly backoffMaxMs: number;
}

export type RestartDecision =
  | { readonly action: 'restart'; readonly delayMs: number }
  | { readonly action: 'fail'; readonly reason: string };

/** Per-node restart bookkeeping: pure apart from the clock passed in. */
export class RestartPolicy {
  /** Times of restarts still inside the window. */
  private recent: number[] = [];

  constructor(private opts: RestartPolicyOptions) {}

  /**
   * Follows a new policy (the grid's changed): restarts already counted stay counted, under the
   * new limits, so a node does not get a fresh allowance from a policy change.
   */
  update(opts: RestartPolicyOptions): void {
    this.opts = opts;
  }

  /** Decides what to do about a crash at `now`, and records the restart when there is one. */
  onCrash(now: number): RestartDecision {
    if (!this.opts.enabled) return { action: 'fail', reason: 'restarts are disabled (restart_failed_nodes = false)' };
    this.recent = this.recent.filter((t) => now - t < this.opts.windowMs);
    const n = this.recent.length;
    if (n >= this.opts.maxRestarts) {
      return { action: 'fail', reason: `crashed ${n + 1} times within ${this.opts.windowMs} ms (${n} restarts)` };
    }
    this.recent.push(now);
    const delayMs = n === 0 ? 0 : Math.min(this.opts.backoffMaxMs, this.opts.backoffMs * 2 ** (n - 1));
    return { action: 'restart', delayMs };
  }
}
