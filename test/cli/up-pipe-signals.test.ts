/**
 * `sutra-grid up` piped into another program, stopped as a terminal stops a job: Ctrl+C (SIGINT),
 * `kill` (SIGTERM) or the terminal closing (SIGHUP), sent to the whole process group. The reader of
 * the pipe dies with the same signal, so `up` drains with nobody reading its output; no storage
 * node, no `up` and no pipeline process may be left behind.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, eventually } from '../helpers/processes.js';
import { killLeftovers, leftBehind, startUpPipeline, upGrid, waitRunning, type PipeReader, type UpGrid, type UpGroup } from './support/up-process.js';


let grid: UpGrid | undefined;
let group: UpGroup | undefined;

afterEach(async () => {
  killLeftovers(grid, group);
  grid = undefined;
  group = undefined;
  await cleanup();
});

const CASES: ReadonlyArray<readonly [PipeReader, NodeJS.Signals]> = [
  ['tee', 'SIGINT'],
  ['tee', 'SIGTERM'],
  ['tee', 'SIGHUP'],
  ['head -c 2000', 'SIGINT'],
  ['head -c 2000', 'SIGTERM'],
  ['head -c 2000', 'SIGHUP'],
];

describe('sutra-grid up through a pipe', () => {
  it.each(CASES)('up | %s, then %s to the group: nothing is left running', async (reader, signal) => {
    grid = upGrid();
    const g = grid;
    const started = startUpPipeline(g, reader);
    group = started.group;
    await waitRunning(g, 2, group);
    // The reader has seen `up` reach its steady state: following events.
    await eventually(() => readFileSync(started.logFile, 'utf8').includes('following lifecycle events'), 15_000);

    // WHEN the terminal sends the signal to the whole job: `up` and its reader
    group.signalGroup(signal);

    // THEN every process of the grid and of the pipeline is gone, and `up` did not crash on its output
    expect(await leftBehind(g, 20_000, group), group.stderr()).toEqual([]);
    expect(group.stderr()).not.toMatch(/EPIPE|Unhandled|Error/);
  });

  it('up | head -c 100: the reader exits while the grid runs; the grid keeps running and still stops cleanly', async () => {
    grid = upGrid();
    const g = grid;
    const started = startUpPipeline(g, 'head -c 100');
    group = started.group;
    await waitRunning(g, 2, group);
    // head has exited after its 100 bytes; `up` wrote more since (at least its status table).
    await eventually(() => readFileSync(started.logFile, 'utf8').length === 100, 15_000);
    // The grid is still served after `up`'s writes failed.
    expect(await waitRunning(g, 2, group)).toHaveLength(2);

    group.signalGroup('SIGTERM');

    expect(await leftBehind(g, 20_000, group), group.stderr()).toEqual([]);
    expect(group.stderr()).not.toMatch(/EPIPE|Unhandled|Error/);
  });
});
