import { constants } from 'node:os';
import { exitProcess } from './std-streams.js';

/**
 * The only place that listens to process signals; the CLI's entry points and long-running commands
 * (`master`, `agent`, `storage-server`, `up`, `events --follow`) come through here.
 *
 * A stop signal is Ctrl+C (SIGINT), `kill` (SIGTERM) or the terminal closing (SIGHUP): all three
 * drain the same way. The first starts the graceful stop; the second says that it is still
 * stopping; the third forces: the command's `force` runs, then the process exits 128+signal.
 */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** What a command does on the first, second and third stop signal. */
export interface StopHandlers {
  /** First signal: begin the graceful stop. Must not throw. */
  readonly stop: (signal: NodeJS.Signals) => void;
  /** Second signal: the stop is still going; tell the person waiting (default: one stderr line). */
  readonly stillStopping?: (signal: NodeJS.Signals) => void;
  /** Third signal: release what must not outlive the process; the process exits right after. */
  readonly force?: (signal: NodeJS.Signals) => void;
}

/** Exit status of a process ended by `signal`, as a shell reports it (SIGINT 130, SIGHUP 129). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/** Best effort: output must never be what breaks a stop (the reader may be gone). */
function say(line: string): void {
  try {
    process.stderr.write(`${line}\n`);
  } catch {
    // nobody to tell
  }
}

/**
 * Handles stop signals until the returned `dispose` is called. Keep it installed for the whole
 * drain: a second Ctrl+C must find the handler, not Node's default action (exit at once).
 */
export function onStopSignals(h: StopHandlers): { dispose: () => void } {
  let count = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    count++;
    try {
      if (count === 1) h.stop(signal);
      else if (count === 2) (h.stillStopping ?? (() => say(`${signal}: still stopping; send it again to force`)))(signal);
      else {
        h.force?.(signal);
        exitProcess(signalExitCode(signal));
      }
    } catch (err) {
      // A throwing handler would become an uncaught exception and end the process mid-drain.
      say(`error while handling ${signal}: ${(err as Error).message}`);
    }
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  return {
    dispose: () => {
      for (const s of STOP_SIGNALS) process.off(s, onSignal);
    },
  };
}

/** A long-running service the CLI runs until a stop signal. */
export interface Daemon {
  /** Resolves once the daemon has fully stopped (after draining). */
  run(): Promise<void>;
  /** Idempotent graceful stop. */
  shutdown(): Promise<void>;
}

/**
 * Runs `daemon` until it stops by itself or a stop signal asks it to. With `start`, the handlers
 * are in place before the daemon starts: a SIGTERM sent right after its "listening" line must drain
 * it, not kill it with Node's default action. A signal during start shuts down once start has
 * finished. A failed shutdown rejects this promise (the entry point prints it and exits 1).
 */
export async function runUntilSignal(daemon: Daemon, start?: () => Promise<unknown>): Promise<void> {
  let asked = false;
  let started = start === undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): void => {
    if (stopping !== undefined) return;
    stopping = daemon.shutdown();
    // Observed below once run() resolves; until then a rejection must not count as unhandled.
    stopping.catch(() => {});
  };
  const signals = onStopSignals({
    stop: () => {
      asked = true;
      if (started) stop();
    },
  });
  try {
    if (start !== undefined) {
      await start();
      started = true;
      if (asked) stop();
    }
    await daemon.run();
    await stopping;
  } finally {
    signals.dispose();
  }
}

/**
 * An AbortSignal that fires on the first stop signal, for commands that only follow something
 * (`events --follow`): there is nothing to drain, so a second signal ends the process at once.
 * Call the returned `dispose` when done.
 */
export function abortOnSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const signals = onStopSignals({
    stop: () => controller.abort(),
    stillStopping: (signal) => exitProcess(signalExitCode(signal)),
  });
  return { signal: controller.signal, dispose: signals.dispose };
}
