/**
 * runUntilSignal and onStopSignals, in process: the handlers are driven with process.emit, so no
 * real signal reaches the test worker. SIGHUP is used because nothing else in a worker listens to it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { onStopSignals, runUntilSignal, signalExitCode } from '../../runtime/cli/run-until-signal.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** A daemon whose run() resolves once its shutdown settles, as Master and Agent do. */
function daemon(shutdownResult: () => Promise<void>): { run(): Promise<void>; shutdown(): Promise<void>; calls: number } {
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const d = {
    calls: 0,
    run: () => finished,
    shutdown: () => {
      d.calls++;
      return shutdownResult().finally(done);
    },
  };
  return d;
}

describe('runUntilSignal', () => {
  it('a failed shutdown rejects runUntilSignal (never a floating rejection)', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const d = daemon(() => Promise.reject(new Error('drain failed')));
      const running = runUntilSignal(d);
      process.emit('SIGHUP', 'SIGHUP');
      await expect(running).rejects.toThrow('drain failed');
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
      expect(d.calls).toBe(1);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  }, 5_000);

  it('SIGHUP drains like SIGINT; a second signal says it is still stopping instead of exiting', async () => {
    const writes: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    let release!: () => void;
    const d = daemon(() => new Promise<void>((r) => (release = r)));
    const running = runUntilSignal(d);
    process.emit('SIGHUP', 'SIGHUP');
    process.emit('SIGHUP', 'SIGHUP');
    expect(writes.join('')).toContain('SIGHUP: still stopping; send it again to force');
    expect(exit).not.toHaveBeenCalled();
    expect(d.calls).toBe(1);
    release();
    await running;
    // Handlers are gone once the daemon stopped.
    expect(process.listenerCount('SIGHUP')).toBe(0);
  });
});

describe('onStopSignals', () => {
  it('the third signal runs force, then exits with 128 + the signal number', () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const seen: string[] = [];
    const h = onStopSignals({ stop: () => seen.push('stop'), stillStopping: () => seen.push('still'), force: () => seen.push('force') });
    try {
      for (let i = 0; i < 3; i++) process.emit('SIGHUP', 'SIGHUP');
      expect(seen).toEqual(['stop', 'still', 'force']);
      expect(exit).toHaveBeenCalledWith(129);
      expect([signalExitCode('SIGINT'), signalExitCode('SIGTERM')]).toEqual([130, 143]);
    } finally {
      h.dispose();
    }
  });
});
