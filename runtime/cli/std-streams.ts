import { isatty } from 'node:tty';

/**
 * stdout and stderr of a CLI process, made safe for pipes and closed terminals. Used by entry
 * points only (runtime/cli/main.ts, bin/sutra-grid.js, and the forced exit of run-until-signal.ts).
 *
 * - A reader that went away (`sutra-grid up | head -c 2000`, a closed terminal) makes writes fail
 *   with EPIPE or EIO, reported as an 'error' event on the stream. Unhandled, that event kills the
 *   process in the middle of whatever it was doing, e.g. while `up` stops its nodes. Output is a
 *   courtesy to the reader; a command never stops because nobody reads it any more.
 * - Output to a pipe is written asynchronously once the pipe buffer (64 KB) is full; exiting
 *   before it drained cuts it. {@link drainStdio} waits for it.
 * - Node 20 aborts (SIGABRT, and a core dump where enabled) when it exits after its terminal hung
 *   up: restoring the terminal's mode fails with EIO and Node asserts. {@link exitProcess} dies of
 *   the hang-up instead, as a shell expects of a job whose terminal closed.
 */

const guarded = new WeakSet<NodeJS.WriteStream>();
/** stdin, stdout and stderr that were terminals when the process started. */
let terminalFds: number[] | undefined;

/**
 * Makes write errors on stdout and stderr harmless: the failing stream is dropped (Node destroys
 * it, so later writes are no-ops) and the process carries on.
 */
export function guardStdio(): void {
  terminalFds ??= [0, 1, 2].filter((fd) => isatty(fd));
  for (const stream of [process.stdout, process.stderr]) {
    if (guarded.has(stream)) continue;
    guarded.add(stream);
    // The error says only that the reader is gone; there is nobody left to tell.
    stream.on('error', () => {});
  }
}

/** Resolves once everything written to `stream` so far has been handed to the OS (or cannot be). */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.destroyed || stream.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => {
    // Writes complete in order, so this empty write's callback runs after every earlier one.
    stream.write('', () => resolve());
    // A stream that fails meanwhile is destroyed: its 'close' ends the wait as well.
    stream.once('close', () => resolve());
  });
}

/**
 * Resolves once stdout and stderr have handed all their output to the OS, so that `process.exit`
 * right after does not cut what a pipe's reader has not read yet. Waits as long as the reader
 * takes, as any program writing to a pipe does.
 */
export async function drainStdio(): Promise<void> {
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
}

/** True when a stdio descriptor that was a terminal at start is not one any more: it hung up. */
function terminalHungUp(): boolean {
  return (terminalFds ?? []).some((fd) => !isatty(fd));
}

/**
 * Ends the process with `code`, or, when its terminal hung up meanwhile, with the hang-up signal
 * itself (no exit-time terminal reset, hence no abort). Call once everything is stopped.
 */
export function exitProcess(code: number): never {
  if (terminalHungUp()) {
    // Default action: terminate now. Any listener would turn the signal back into an event.
    process.removeAllListeners('SIGHUP');
    process.kill(process.pid, 'SIGHUP');
  }
  process.exit(code);
}
