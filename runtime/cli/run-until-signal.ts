/**
 * The only place that listens to process signals: the CLI entry point hands a daemon here, and the
 * first SIGINT/SIGTERM fans out to its idempotent `shutdown()`. A second signal forces exit.
 */
export interface Daemon {
  /** Resolves once the daemon has fully stopped (after draining). */
  run(): Promise<void>;
  /** Idempotent graceful stop. */
  shutdown(): Promise<void>;
}

/**
 * Runs `daemon` until it stops by itself or a signal asks it to. With `start`, the handlers are in
 * place before the daemon starts: a SIGTERM sent right after its "listening" line must drain it, not
 * kill it with Node's default action. A signal during start shuts down once start has finished.
 */
export async function runUntilSignal(daemon: Daemon, start?: () => Promise<unknown>): Promise<void> {
  let signalled = 0;
  let started = start === undefined;
  const onSignal = (): void => {
    signalled++;
    if (signalled > 1) process.exit(130);
    if (started) void daemon.shutdown();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    if (start !== undefined) {
      await start();
      started = true;
      if (signalled > 0) void daemon.shutdown();
    }
    await daemon.run();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * An AbortSignal that fires on the first SIGINT/SIGTERM, for commands that run until interrupted
 * (`events --follow`, `up`). Call the returned `dispose` when done.
 */
export function abortOnSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
