/**
 * How long a node gets between SIGTERM and SIGKILL when nobody asked for another grace, and how
 * long the master waits for a stop. Both sides derive from here, so the caller's deadline always
 * outlasts the agent's grace: a slow but successful stop is never reported as failed.
 */

/** The agent's default SIGTERM-to-SIGKILL grace (`stop_grace_secs`). */
export const DEFAULT_STOP_GRACE_MS = 10_000;

/**
 * The deadline of a StopNode call asking for `graceMs` (0 = the agent's default): the grace plus
 * `marginMs` for the agent's own work around the kill (reaping, bookkeeping, the answer).
 */
export function stopCallDeadlineMs(graceMs: number, marginMs: number): number {
  return (graceMs > 0 ? graceMs : DEFAULT_STOP_GRACE_MS) + marginMs;
}
