/**
 * The convergence wait against a real master and agents: the spec goes over the wire once, the
 * wait follows the master's events and reads the grid until the reconciler has finished the
 * applied generation; a grid that cannot converge is reported, and Ctrl+C ends the wait at once.
 * Reads are paced by their cost, so a large grid's waiting client does not keep the master busy.
 */
import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { waitConverged, waitDrained, withMaster, type GridView } from '../../client/index.js';
import { DeclarativeGrid, gridSpec } from '../declarative/support/declarative-grid.js';

let grid: DeclarativeGrid | undefined;

afterEach(async () => {
  const leaked = (await grid?.teardown()) ?? [];
  grid = undefined;
  expect(leaked).toEqual([]);
});

/** A client interceptor that records the path of every call the client makes. */
function recorder(calls: string[]): Interceptor {
  return (options, next) => {
    calls.push(options.method_definition.path.replace('/sutra.grid.v1.GridMaster/', ''));
    return new InterceptingCall(next(options));
  };
}

const count = (calls: readonly string[], rpc: string): number => calls.filter((c) => c === rpc).length;

/**
 * A client interceptor that holds every ListNodes `delayMs` before it leaves, as a read of a large
 * grid takes that long (at 10,000 nodes, ~60 ms of the master's CPU), and records when each began.
 */
function slowReads(delayMs: number, began: number[]): Interceptor {
  return (options, next) => {
    if (!options.method_definition.path.endsWith('/ListNodes')) return new InterceptingCall(next(options));
    return new InterceptingCall(next(options), {
      start(metadata, listener, start) {
        began.push(performance.now());
        setTimeout(() => start(metadata, listener), delayMs);
      },
    });
  };
}

describe('waitConverged', () => {
  it('applies once, then waits on events and reads until the grid is as declared; the spec is sent exactly once', async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    await Promise.all([grid.agent('a1'), grid.agent('a2')]);
    const spec = JSON.stringify(gridSpec([{ id: 'a1' }, { id: 'a2' }], [{ name: 'kv', nodes: 3 }]));
    const calls: string[] = [];
    const views: GridView[] = [];

    // WHEN the spec is applied once and the wait runs to the end
    const result = await withMaster({ address: grid.master.address, interceptors: [recorder(calls)] }, async (m) => {
      const applied = await m.applySpec(spec, 0);
      expect(applied).toMatchObject({ generation: 1, changed: true });
      return waitConverged(m, applied.generation, { timeoutMs: 60_000, onView: (v) => views.push(v) });
    });

    // THEN it converged, and what it saw last is the grid as declared, with nothing left to do
    expect(result.done, `${result.remaining.join('; ')}\n${grid.masterLogs()}`).toBe(true);
    expect(result.remaining).toEqual([]);
    expect(result.view?.nodes.filter((n) => n.status === 'running').map((n) => n.nodeId).sort()).toEqual(['kv-0', 'kv-1', 'kv-2']);
    expect(result.view?.status.reconcile).toEqual({ generation: 1, pendingActions: 0, unplaced: [], rollouts: [] });
    expect(views.at(-1)).toBe(result.view);
    // THEN the spec crossed the wire once; the wait only followed the event stream and read the grid
    expect(count(calls, 'ApplySpec')).toBe(1);
    expect(count(calls, 'WatchEvents')).toBe(1);
    expect(count(calls, 'GetClusterStatus')).toBe(views.length);
    expect(count(calls, 'ListNodes')).toBe(views.length);
    // ... and the master's event log agrees: one spec applied
    expect(await grid.events('SpecApplied')).toHaveLength(1);

    // WHEN the spec is deleted THEN the drain wait sees every node stop
    const drained = await withMaster({ address: grid.master.address }, async (m) => {
      await m.deleteSpec(1, 'test');
      return waitDrained(m, new Set(['kv']), { timeoutMs: 60_000 });
    });
    expect(drained).toMatchObject({ done: true, remaining: [] });
    expect((await grid.nodes()).filter((n) => n.status !== 'stopped')).toEqual([]);
  }, 120_000);

  it('paces its reads by what they cost: a slow read is not repeated on every event', async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    await Promise.all([grid.agent('a1'), grid.agent('a2')]);
    const spec = JSON.stringify(gridSpec([{ id: 'a1' }, { id: 'a2' }], [{ name: 'kv', nodes: 6 }]));
    const began: number[] = [];
    const seen: number[] = [];

    // WHEN every read takes 80 ms while six nodes start (two events each, a few ms apart)
    const result = await withMaster({ address: grid.master.address, interceptors: [slowReads(80, began)] }, async (m) => {
      const applied = await m.applySpec(spec, 0);
      return waitConverged(m, applied.generation, { timeoutMs: 60_000, onView: () => seen.push(performance.now()) });
    });

    // THEN it still converged
    expect(result.done, `${result.remaining.join('; ')}\n${grid.masterLogs()}`).toBe(true);
    expect(began.length).toBe(seen.length);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    // ... and after each read the next came no sooner than 9x its duration (8x: timers' slack), or
    // 5 s for a read over ~0.55 s
    for (let i = 1; i < began.length; i++) {
      const tookMs = seen[i - 1]! - began[i - 1]!;
      expect(tookMs).toBeGreaterThanOrEqual(75);
      expect(began[i]! - seen[i - 1]!, `read ${i + 1} of ${began.length}, which took ${tookMs.toFixed(0)} ms`).toBeGreaterThanOrEqual(Math.min(8 * tookMs, 4_990));
    }
  }, 120_000);

  it('reports what is left when the grid cannot converge, and ends at once on an abort', async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    // The spec lets a1 hold 4 nodes; the agent itself takes 1.
    await grid.agent('a1', { maxNodes: 1 });
    await withMaster({ address: grid.master.address }, async (m) => {
      const { generation } = await m.applySpec(JSON.stringify(gridSpec([{ id: 'a1' }], [{ name: 'kv', nodes: 2 }])), 0);

      // WHEN the wait runs out of time
      const late = await waitConverged(m, generation, { timeoutMs: 4_000 });
      // THEN it names the unplaced node and the cluster short of it
      expect(late.done).toBe(false);
      expect(late.interrupted).toBe(false);
      expect(late.remaining).toEqual(expect.arrayContaining([expect.stringMatching(/^cluster kv: 1 of 2 nodes unplaced/), 'cluster kv: 1 of 2 nodes running']));

      // WHEN it is interrupted after its first read THEN it returns without waiting for the timeout
      const stop = new AbortController();
      const started = Date.now();
      const interrupted = await waitConverged(m, generation, { timeoutMs: 120_000, onView: () => stop.abort(), signal: stop.signal });
      expect(interrupted).toMatchObject({ done: false, interrupted: true });
      expect(Date.now() - started).toBeLessThan(60_000);
    });
  }, 120_000);
});
