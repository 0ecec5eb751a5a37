import { closeSync, writeSync } from 'node:fs';

/**
 * Readiness notification, as s6 and sd_notify do it: a launcher that wants to know when the node
 * serves passes an inherited pipe and names its descriptor in this variable; the node writes
 * {@link READY_LINE} to it once, when its health service says SERVING, and closes it. The launcher
 * (the agent's process platform) then runs its health check once at that moment instead of polling
 * a port that refuses connections until then. The check still decides: the line only says when.
 */
export const READY_FD_ENV = 'SUTRA_GRID_READY_FD';

/** What the node writes to the readiness descriptor. */
export const READY_LINE = 'READY\n';

/**
 * Takes the readiness descriptor out of the environment (nothing the node starts inherits the
 * variable). Undefined when the launcher passed none or the value is not a descriptor number.
 */
export function takeReadyFd(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[READY_FD_ENV];
  delete env[READY_FD_ENV];
  if (raw === undefined || !/^\d{1,4}$/.test(raw)) return undefined;
  const fd = Number(raw);
  // 0-2 are the standard streams: never written to or closed as a readiness pipe.
  return fd > 2 ? fd : undefined;
}

/**
 * Writes the ready line to `fd` and closes it. Best effort: a launcher gone meanwhile (EPIPE) or
 * a descriptor that was never open (EBADF) must not stop a serving node; the launcher's health
 * check polling finds it serving all the same.
 */
export function notifyReady(fd: number): void {
  try {
    writeSync(fd, READY_LINE);
  } catch {
    // nobody listening: the launcher falls back to polling
  }
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
