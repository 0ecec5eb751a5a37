/**
 * EventBus.rebase: the bus of a master that starts or stops writing a log another writer appended
 * to (several masters sharing one log). Its pending events go on after the store's end, with later
 * timestamps, or are dropped and counted.
 */
import { rm } from 'node:fs/promises';
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

const crash = (nodeId: string) => ({ type: 'NodeCrashed' as const, agentId: 'a1', nodeId, payload: { exitCode: 1 } });
const other = (index: number, timestampUs: number): GridEvent =>
  ({ index, timestampUs, type: 'NodeCrashed', severity: 'error', agentId: 'a2', nodeId: `o${index}`, cluster: '', payload: { exitCode: 2 }, count: 1, lastSeenUs: timestampUs }) as GridEvent;

/** The real log, refusing this bus's appends while `writing` is false (a follower's store). */
function gated(log: EventLog): { store: EventStore; writing: { on: boolean } } {
  const writing = { on: false };
  const store: EventStore = {
    get firstIndex() {
      return log.firstIndex;
    },
    get lastIndex() {
      return log.lastIndex;
    },
    get lastTimestampUs() {
      return log.lastTimestampUs;
    },
    append: (events) => (writing.on ? log.append(events) : Promise.reject(new Error('this master does not lead'))),
    read: (from, max) => log.read(from, max),
    indexAtOrAfter: (ts) => log.indexAtOrAfter(ts),
    applyRetention: (limits) => log.applyRetention(limits),
    close: () => log.close(),
  };
  return { store, writing };
}

describe('EventBus.rebase', () => {
  it('renumbers pending events after what another writer appended, with later timestamps; no gap, no repeat', async () => {
    const log = await EventLog.open(dir);
    const { store, writing } = gated(log);
    const bus = new EventBus(store, { flushIntervalMs: 10 });
    // GIVEN events emitted while another master writes the log
    expect([bus.emit(crash('n1')), bus.emit(crash('n2'))]).toEqual([1, 2]);
    const far = Date.now() * 1000 + 60_000_000;
    await log.append([other(1, far), other(2, far + 1), other(3, far + 2)]);
    // WHEN this bus becomes the writer
    writing.on = true;
    expect(await bus.rebase(true)).toBe(2);
    await bus.flush(5000);
    // THEN its events follow the other writer's, in index and time order
    const { events } = await bus.list();
    expect(events.map((e) => [e.index, e.nodeId])).toEqual([[1, 'o1'], [2, 'o2'], [3, 'o3'], [4, 'n1'], [5, 'n2']]);
    for (let i = 1; i < events.length; i++) expect(events[i]!.timestampUs).toBeGreaterThan(events[i - 1]!.timestampUs);
    expect(bus.emit(crash('n3'))).toBe(6);
    await bus.close();
  });

  it('a bus that stops writing drops what it had pending and counts it; close() does not wait for it', async () => {
    const log = await EventLog.open(dir);
    const { store } = gated(log);
    const bus = new EventBus(store, { flushIntervalMs: 10 });
    bus.emit(crash('n1'));
    bus.emit(crash('n2'));
    expect(await bus.rebase(false)).toBe(2);
    expect(bus.stats()).toMatchObject({ dropped: 2, pending: 0, assignedIndex: 0, storeError: null });
    const t0 = Date.now();
    await bus.close(5000);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(log.lastIndex).toBe(0);
  });

  it('records nothing while not accepting (a follower): emits are dropped and counted, then recorded again', async () => {
    const log = await EventLog.open(dir);
    let leading = false;
    const bus = new EventBus(log, { flushIntervalMs: 10, accepting: () => leading });
    expect(bus.emit(crash('n1'))).toBe(0);
    expect(bus.stats()).toMatchObject({ dropped: 1, pending: 0, assignedIndex: 0 });
    leading = true;
    expect(bus.emit(crash('n2'))).toBe(1);
    await bus.flush(5000);
    expect((await bus.list()).events.map((e) => e.nodeId)).toEqual(['n2']);
    await bus.close();
  });
});
