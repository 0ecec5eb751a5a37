import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus, EventLog, type EventStore, type GridEvent } from '../../runtime/events/index.js';
import { tempDir } from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const heartbeat = (agentId = 'a1', nodeCount = 2) => ({ type: 'AgentHeartbeat' as const, agentId, payload: { nodeCount } });
const crash = (nodeId: string) => ({ type: 'NodeCrashed' as const, agentId: 'a1', nodeId, payload: { exitCode: 1 } });

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}

describe('EventBus emit', () => {
  it('assigns indexes and strictly increasing timestamps synchronously, and close() loses nothing', async () => {
    const bus = await EventBus.open(dir);
    const idx = [bus.emit(crash('n1')), bus.emit(crash('n2')), bus.emit({ type: 'StopSucceeded', nodeId: 'n3', payload: { durationMs: 4 } })];
    expect(idx).toEqual([1, 2, 3]);
    expect(bus.stats()).toMatchObject({ assignedIndex: 3, pending: 3, lastIndex: 0 });
    await bus.close();
    expect(bus.emit(crash('n4'))).toBe(0);

    const reopened = await EventBus.open(dir);
    const { events } = await reopened.list();
    expect(events.map((e) => [e.index, e.type, e.severity])).toEqual([
      [1, 'NodeCrashed', 'error'],
      [2, 'NodeCrashed', 'error'],
      [3, 'StopSucceeded', 'info'],
    ]);
    expect(events[1]!.timestampUs).toBeGreaterThan(events[0]!.timestampUs);
    expect(reopened.emit(crash('n5'))).toBe(4);
    await reopened.close();
  });

  it('never throws: malformed events are rejected and counted', async () => {
    const bus = await EventBus.open(dir);
    expect(bus.emit({ type: 'Bogus', payload: {} } as never)).toBe(0);
    expect(bus.emit({ type: 'NodeCrashed', payload: {} } as never)).toBe(0);
    expect(bus.emit({ type: 'SpawnFailed', payload: null } as never)).toBe(0);
    expect(bus.stats().rejected).toBe(3);
    expect(bus.emit(crash('n1'))).toBe(1);
    await bus.close();
  });

  it('commits within the group-commit interval without flush()', async () => {
    const bus = await EventBus.open(dir, { flushIntervalMs: 50 });
    bus.emit(crash('n1'));
    await waitFor(() => bus.stats().lastIndex === 1, 1000);
    await bus.close();
  });
});

describe('EventBus retention', () => {
  it('compacts while writers keep writing: nothing blocks, the retained range stays contiguous', async () => {
    const bus = await EventBus.open(dir, { flushIntervalMs: 1, segmentMaxBytes: 4096, maxEvents: 300, retentionCheckMs: 1 });
    for (let i = 1; i <= 5000; i++) {
      bus.emit(crash(`n${i}`));
      if (i % 100 === 0) await sleep(1);
    }
    await bus.flush();
    await bus.runRetention();
    const { firstIndex, lastIndex } = bus.stats();
    expect(lastIndex).toBe(5000);
    expect(firstIndex).toBeGreaterThan(4000);
    expect(lastIndex - firstIndex + 1).toBeGreaterThanOrEqual(300);
    const { events } = await bus.list(undefined, { limit: 10_000 });
    expect(events.map((e) => e.index)).toEqual(Array.from({ length: lastIndex - firstIndex + 1 }, (_, i) => firstIndex + i));
    await bus.close();
  });
});

describe('EventBus series folding', () => {
  it('folds identical heartbeats: first recorded at once, the series written when it ends', async () => {
    const bus = await EventBus.open(dir, { seriesWindowMs: 150, seriesSweepMs: 10 });
    expect(bus.emit(heartbeat())).toBe(1);
    for (let i = 0; i < 4; i++) expect(bus.emit(heartbeat())).toBe(0);
    expect(bus.emit(heartbeat('a2'))).toBe(2); // another agent is another series
    expect(bus.emit(heartbeat('a1', 3))).toBe(3); // another payload too
    await waitFor(() => bus.stats().openSeries === 0);
    await bus.flush();
    const { events } = await bus.list({ types: ['AgentHeartbeat'], agentId: 'a1' });
    const series = events.filter((e) => e.type === 'AgentHeartbeat' && e.payload.nodeCount === 2);
    expect(series.map((e) => e.count)).toEqual([1, 5]);
    expect(series[1]!.index).toBeGreaterThan(3);
    expect(series[1]!.lastSeenUs).toBeLessThan(series[1]!.timestampUs);
    expect(series[1]!.lastSeenUs).toBeGreaterThan(series[0]!.timestampUs);
    // After the window, the same heartbeat opens a new series.
    expect(bus.emit(heartbeat())).toBeGreaterThan(series[1]!.index);
    await bus.close();
  });

  it('writes a running series every seriesFlushMs with the cumulative count', async () => {
    let now = 1_000_000_000;
    const bus = await EventBus.open(dir, { seriesWindowMs: 10_000, seriesFlushMs: 1000, seriesSweepMs: 5, clock: () => now });
    bus.emit(heartbeat());
    for (let i = 0; i < 3; i++) {
      now += 400_000; // 0.4 s between heartbeats
      bus.emit(heartbeat());
    }
    await waitFor(() => bus.stats().assignedIndex === 2);
    now += 400_000;
    bus.emit(heartbeat());
    await bus.close(); // the open series is written once more on close
    const log = await EventLog.open(dir);
    const events = await log.read(1, 10);
    expect(events.map((e) => [e.index, e.count])).toEqual([[1, 1], [2, 4], [3, 5]]);
    expect(events[2]!.lastSeenUs).toBe(now);
    await log.close();
  });

  it('does not fold types that are not foldable', async () => {
    const bus = await EventBus.open(dir);
    expect([bus.emit(crash('n1')), bus.emit(crash('n1'))]).toEqual([1, 2]);
    await bus.close();
  });
});

/** Wraps a real log; while `failing` is set, appends throw like a full disk would. */
class FlakyStore implements EventStore {
  failing = false;
  /** How long a failing append takes before it throws (a slow, dying disk). */
  failAfterMs = 0;
  constructor(private readonly inner: EventLog) {}
  get firstIndex() { return this.inner.firstIndex; }
  get lastIndex() { return this.inner.lastIndex; }
  get lastTimestampUs() { return this.inner.lastTimestampUs; }
  append(events: readonly GridEvent[]) {
    if (!this.failing) return this.inner.append(events);
    return sleep(this.failAfterMs).then(() => Promise.reject(new Error('ENOSPC: no space left on device')));
  }
  read(from: number, max: number) { return this.inner.read(from, max); }
  indexAtOrAfter(us: number) { return this.inner.indexAtOrAfter(us); }
  applyRetention(l: Parameters<EventLog['applyRetention']>[0]) { return this.inner.applyRetention(l); }
  close() { return this.inner.close(); }
}

describe('EventBus store failure', () => {
  it('keeps emitting, buffers to a bound, counts drops, and reports recovery with an event', async () => {
    const store = new FlakyStore(await EventLog.open(dir));
    const errors: unknown[] = [];
    const bus = new EventBus(store, { flushIntervalMs: 5, maxPending: 50, maxRetryDelayMs: 20, onStoreError: (e) => errors.push(e) });
    store.failing = true;
    for (let i = 0; i < 60; i++) bus.emit(crash(`n${i}`));
    await waitFor(() => errors.length >= 2);
    expect(bus.stats()).toMatchObject({ dropped: 10, pending: 50, lastIndex: 0, assignedIndex: 50 });
    expect(bus.stats().storeError).toMatch(/ENOSPC/);
    await expect(bus.flush(50)).rejects.toMatchObject({ code: 'EVENTS_FLUSH_TIMEOUT' });

    store.failing = false;
    await waitFor(() => bus.stats().storeError === null && bus.stats().lastIndex >= 51);
    await bus.flush();
    const { events } = await bus.list(undefined, { limit: 100 });
    expect(events.map((e) => e.index)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    const recovered = events[50]!;
    expect(recovered.type).toBe('EventStoreRecovered');
    expect(recovered.severity).toBe('warning');
    expect(recovered.payload).toMatchObject({ dropped: 10, error: expect.stringMatching(/ENOSPC/) });
    await bus.close();
  });

  it('events of a write in progress count against the bound: emits during a slow failing write are dropped', async () => {
    const store = new FlakyStore(await EventLog.open(dir));
    const errors: unknown[] = [];
    const bus = new EventBus(store, { flushIntervalMs: 5, maxPending: 50, maxRetryDelayMs: 20, onStoreError: (e) => errors.push(e) });
    store.failing = true;
    store.failAfterMs = 100;
    for (let i = 0; i < 50; i++) bus.emit(crash(`n${i}`));
    // The writer takes the 50 out of the queue for its (slow, failing) write.
    await waitFor(() => bus.stats().pending === 0);
    for (let i = 0; i < 10; i++) expect(bus.emit(crash(`late${i}`))).toBe(0);
    await waitFor(() => errors.length >= 1);
    expect(bus.stats()).toMatchObject({ dropped: 10, pending: 50, assignedIndex: 50 });
    store.failing = false;
    await bus.close();
  });

  it('close() with a dead store still closes and says how many events were lost', async () => {
    const store = new FlakyStore(await EventLog.open(dir));
    const bus = new EventBus(store, { flushIntervalMs: 5 });
    store.failing = true;
    bus.emit(crash('n1'));
    bus.emit(crash('n2'));
    await expect(bus.close(100)).rejects.toMatchObject({ code: 'EVENTS_FLUSH_TIMEOUT', message: expect.stringMatching(/2 events/) });
    expect(bus.status).toBe('closed');
  });

  it('refuses bad options naming the option', async () => {
    await expect(EventBus.open(dir, { flushIntervalMs: 0 })).rejects.toMatchObject({ code: 'EVENTS_INVALID_OPTIONS', field: 'flushIntervalMs' });
    await expect(EventBus.open(dir, { segmentMaxBytes: 10 })).rejects.toMatchObject({ code: 'EVENTS_INVALID_OPTIONS', field: 'segmentMaxBytes' });
  });
});
