/**
 * Exponential backoff with full jitter, and a bounded retry loop around it.
 */

export interface BackoffOptions {
  /** First delay (ms). */
  readonly initialMs: number;
  /** Upper bound of one delay (ms). */
  readonly maxMs: number;
  /** 0 = exact delays (tests), 1 = full jitter in [delay/2, delay]. */
  readonly jitter?: number;
}

/** Delay before attempt `attempt` (0-based retry count): initial * 2^attempt, capped, with jitter. */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(opts.maxMs, opts.initialMs * 2 ** attempt);
  const jitter = opts.jitter ?? 0.5;
  return Math.round(base * (1 - jitter / 2 + (random() * jitter) / 2));
}

/** Resolves after `ms`, or rejects with the signal's reason when aborted first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
