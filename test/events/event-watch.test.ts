import { rm } from 'node:fs/promises';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus, type GridEvent, type WatchItem, type WatchStart } from '../../runtime/events/index.js';
import { tempDir } from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const spawned = (n: number, agentId = 'a1') =>
  ({ type: 'SpawnSucceeded', agentId, nodeId: `n${n}`, payload: { pid: n, port: 7000, durationMs: 1 } }) as const;

/** Collects a watch until `want` events arrived, then aborts it. */
async function collect(bus: EventBus, from: number, want: number, filter?: Parameters<EventBus['watch']>[1]) {
  const ac = new AbortController();
  let start: WatchStart | undefined;
  const events: GridEvent[] = [];
  for await (const item of bus.watch(from, filter, ac.signal) as AsyncIterable<WatchItem>) {
    if (item.kind === 'start') start = item;
    else events.push(item.event);
    if (events.length >= want) ac.abort();
  }
  return { start, events };
}

describe('watch', () => {
  for (const cacheSize of [0, 16384]) {
    it(`from 0 replays then follows live with no gap and no duplicate (cacheSize ${cacheSize})`, async () => {
      const bus = await EventBus.open(dir, { flushIntervalMs: 2, largeBatch: 64, cacheSize, segmentMaxBytes: 16 * 1024 });
      for (let i = 1; i <= 500; i++) bus.emit(spawned(i));
      await bus.flush();
      // GIVEN 500 stored events WHEN a watch starts while a writer keeps emitting 1500 more
      const total = 2000;
      const watching = collect(bus, 0, total);
      for (let i = 501; i <= total; i++) {
        bus.emit(spawned(i));
        if (i % 50 === 0) await yieldLoop();
      }
      const { start, events } = await watching;
      // THEN it sees each index exactly once, in order
      expect(start).toEqual({ kind: 'start', requestedIndex: 0, startIndex: 1, truncated: false });
      expect(events.map((e) => e.index)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      await bus.close();
    });
  }

  it('resumes across a restart of the bus: every event exactly once, in order', async () => {
    // GIVEN a watcher following bus #1 WHEN bus #1 stops and bus #2 opens the same directory
    // THEN re-watching from the last index seen + 1 yields the rest with no gap or duplicate.
    const seen: number[] = [];
    let bus = await EventBus.open(dir, { flushIntervalMs: 2 });
    for (let i = 1; i <= 50; i++) bus.emit(spawned(i));
    const first = (async () => {
      for await (const item of bus.watch(0)) if (item.kind === 'event') seen.push(item.event.index);
    })();
    for (let i = 51; i <= 100; i++) bus.emit(spawned(i));
    await bus.close();
    await first; // the stream ends when the bus closes, possibly before it caught up
    const k = seen.length;
    expect(seen).toEqual(Array.from({ length: k }, (_, i) => i + 1));

    bus = await EventBus.open(dir, { flushIntervalMs: 2 });
    for (let i = 101; i <= 150; i++) bus.emit(spawned(i));
    const rest = await collect(bus, k + 1, 150 - k);
    expect(rest.start).toMatchObject({ requestedIndex: k + 1, startIndex: k + 1, truncated: false });
    seen.push(...rest.events.map((e) => e.index));
    expect(seen).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    await bus.close();
  });

  it('delivers series updates to watchers as new records', async () => {
    const bus = await EventBus.open(dir, { flushIntervalMs: 2, seriesWindowMs: 50, seriesSweepMs: 5 });
    const watching = collect(bus, 0, 2, { types: ['AgentHeartbeat'] });
    for (let i = 0; i < 3; i++) bus.emit({ type: 'AgentHeartbeat', agentId: 'a1', payload: { nodeCount: 1 } });
    const { events } = await watching;
    expect(events.map((e) => [e.index, e.count])).toEqual([[1, 1], [2, 3]]);
    await bus.close();
  });

  it('applies the filter to replay and live alike', async () => {
    const bus = await EventBus.open(dir, { flushIntervalMs: 2 });
    for (let i = 1; i <= 10; i++) bus.emit(spawned(i, i % 2 ? 'a1' : 'a2'));
    const watching = collect(bus, 1, 10, { agentId: 'a2', types: ['SpawnSucceeded'] });
    await bus.flush();
    for (let i = 11; i <= 20; i++) bus.emit(spawned(i, i % 2 ? 'a1' : 'a2'));
    const { events } = await watching;
    expect(events.map((e) => e.index)).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
    await bus.close();
  });

  it('says so when retention already removed the requested index (never a silent skip)', async () => {
    const bus = await EventBus.open(dir, { segmentMaxBytes: 1024, maxEvents: 20, retentionCheckMs: 0 });
    for (let i = 1; i <= 100; i++) {
      bus.emit(spawned(i));
      if (i % 10 === 0) await bus.flush();
    }
    expect(await bus.runRetention()).toBeGreaterThan(0);
    const first = bus.stats().firstIndex;
    expect(first).toBeGreaterThan(5);
    const { start, events } = await collect(bus, 5, 100 - first + 1);
    expect(start).toEqual({ kind: 'start', requestedIndex: 5, startIndex: first, truncated: true });
    expect(events[0]!.index).toBe(first);
    expect(events[events.length - 1]!.index).toBe(100);
    // A request inside the retained range is not truncated.
    const inside = await collect(bus, first + 1, 1);
    expect(inside.start).toMatchObject({ startIndex: first + 1, truncated: false });
    await bus.close();
  });

  it('ends when the bus closes, and validates its filter up front', async () => {
    const bus = await EventBus.open(dir);
    expect(() => bus.watch(0, { types: ['NodeCrashd'] })).toThrow(expect.objectContaining({ code: 'EVENTS_INVALID_FILTER', field: 'filter.types' }));
    expect(() => bus.watch(-1)).toThrow(expect.objectContaining({ field: 'fromIndex' }));
    const items: WatchItem[] = [];
    const done = (async () => {
      for await (const item of bus.watch(0)) items.push(item);
    })();
    await yieldLoop();
    await bus.close();
    await done;
    expect(items.map((i) => i.kind)).toEqual(['start']);
  });
});

describe('list', () => {
  it('filters by type, agent, node and time and index ranges, with a limit', async () => {
    let now = 5_000_000;
    const bus = await EventBus.open(dir, { clock: () => (now += 1000) });
    for (let i = 1; i <= 30; i++) bus.emit(spawned(i, i <= 15 ? 'a1' : 'a2'));
    bus.emit({ type: 'NodeCrashed', agentId: 'a2', nodeId: 'n30', payload: { signal: 'SIGKILL' } });
    await bus.flush();
    const all = await bus.list();
    expect(all).toMatchObject({ firstIndex: 1, lastIndex: 31 });
    expect((await bus.list({ types: ['NodeCrashed'] })).events.map((e) => e.index)).toEqual([31]);
    expect((await bus.list({ nodeId: 'n30' })).events.map((e) => e.type)).toEqual(['SpawnSucceeded', 'NodeCrashed']);
    expect((await bus.list({ agentId: 'a2' }, { sinceIndex: 20, limit: 3 })).events.map((e) => e.index)).toEqual([20, 21, 22]);
    const t5 = all.events[4]!.timestampUs;
    const t9 = all.events[8]!.timestampUs;
    expect((await bus.list(undefined, { sinceUs: t5, untilUs: t9 })).events.map((e) => e.index)).toEqual([5, 6, 7, 8, 9]);
    await expect(bus.list({ types: ['Nope'] })).rejects.toMatchObject({ code: 'EVENTS_INVALID_FILTER', field: 'filter.types' });
    await expect(bus.list(undefined, { sinceUs: 10, untilUs: 5 })).rejects.toMatchObject({ field: 'untilUs' });
    await expect(bus.list(undefined, { limit: -1 })).rejects.toMatchObject({ field: 'limit' });
    await bus.close();
  });
});
