/**
 * How `sutra-grid up` answers stop signals other than one Ctrl+C: a hang-up (the terminal closed,
 * or SIGHUP sent to `up` alone) drains like Ctrl+C; a second Ctrl+C during the drain says that it is still stopping instead of
 * exiting; a third forces, and even then no node outlives `up`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, isAlive, tempDir } from '../helpers/processes.js';
import { killLeftovers, leftBehind, startUp, startUpInTerminal, stubbornStorageBinary, upGrid, waitRunning, type UpGrid, type UpGroup } from './support/up-process.js';


let grid: UpGrid | undefined;
let group: UpGroup | undefined;

afterEach(async () => {
  killLeftovers(grid, group);
  grid = undefined;
  group = undefined;
  await cleanup();
});

/** Resolves once `text()` matches `pattern`; fails after `timeoutMs` with what it showed. */
async function waitFor(text: () => string, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(text())) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms; got:\n${text()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('sutra-grid up stop signals', () => {
  it('SIGHUP to up alone (the terminal closed) drains like Ctrl+C and exits 0', async () => {
    grid = upGrid();
    const up = (group = startUp(grid));
    await waitRunning(grid, 2, group);
    await waitFor(up.stdout, /following lifecycle events/, 15_000);

    process.kill(up.pgid, 'SIGHUP');

    expect(await up.exited, up.stderr()).toEqual({ code: 0, signal: null });
    expect(up.stdout()).toMatch(/stopping the grid\.\.\.\ngrid stopped\n/);
    expect(await leftBehind(grid, 5_000)).toEqual([]);
  });

  it('closing its terminal (the pty hangs up) stops the grid: nothing is left running', async () => {
    grid = upGrid();
    const terminal = (group = startUpInTerminal(grid));
    await waitRunning(grid, 2, group);
    await waitFor(terminal.stdout, /following lifecycle events/, 15_000);

    // WHEN the terminal goes away (its emulator dies): SIGHUP, and EIO on every later write
    process.kill(terminal.pgid, 'SIGKILL');

    // THEN `up` drains anyway and nothing of the grid is left
    expect(await leftBehind(grid, 20_000)).toEqual([]);
  });

  it('a second Ctrl+C says the grid is still stopping; a third kills its nodes and exits 130', async () => {
    // Nodes that ignore SIGTERM keep the drain going for the agent's whole 10 s stop grace.
    grid = upGrid({ binary: stubbornStorageBinary(tempDir('stubborn-bin-')) });
    const up = (group = startUp(grid));
    const pids = await waitRunning(grid, 2, group);
    await waitFor(up.stdout, /following lifecycle events/, 15_000);

    // WHEN Ctrl+C: the drain starts and waits on the stubborn nodes
    up.signalGroup('SIGINT');
    await waitFor(up.stdout, /stopping the grid\.\.\./, 10_000);

    // AND Ctrl+C again: `up` says so and keeps draining
    up.signalGroup('SIGINT');
    await waitFor(up.stderr, /still stopping the grid \(2 nodes left\); press Ctrl\+C again/, 5_000);
    expect(isAlive(up.pgid)).toBe(true);
    for (const pid of pids) expect(isAlive(pid), `node ${pid}`).toBe(true);

    // AND a third time: it kills the nodes and exits at once, with the signal's status
    const t0 = Date.now();
    up.signalGroup('SIGINT');
    expect(await up.exited, up.stderr()).toEqual({ code: 130, signal: null });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(up.stderr()).toContain('forced: killed 2 nodes');
    expect(await leftBehind(grid, 5_000)).toEqual([]);
  });
});
