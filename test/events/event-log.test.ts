import { appendFile, open, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventLog, type GridEvent } from '../../runtime/events/index.js';
import { mkBatch, mkEvent, tempDir } from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readAll(log: EventLog): Promise<GridEvent[]> {
  const out: GridEvent[] = [];
  for (let from = log.firstIndex; from <= log.lastIndex; ) {
    const chunk = await log.read(from, 500);
    if (chunk.length === 0) break;
    out.push(...chunk);
    from = (chunk[chunk.length - 1] as GridEvent).index + 1;
  }
  return out;
}

function expectContiguous(events: GridEvent[], first: number, last: number): void {
  expect(events.map((e) => e.index)).toEqual(Array.from({ length: last - first + 1 }, (_, i) => first + i));
}

async function segmentFiles(): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();
}

describe('EventLog', () => {
  it('appends and reads back by index range, from disk and from the cache', async () => {
    const log = await EventLog.open(dir, { cacheSize: 10 });
    expect([log.firstIndex, log.lastIndex]).toEqual([1, 0]);
    await log.append(mkBatch(0, 100));
    expect(log.lastIndex).toBe(100);
    const fromDisk = await log.read(5, 3);
    expect(fromDisk).toEqual([mkEvent(5), mkEvent(6), mkEvent(7)]);
    const fromCache = await log.read(99, 10);
    expect(fromCache).toEqual([mkEvent(99), mkEvent(100)]);
    expect(await log.read(101, 10)).toEqual([]);
    await log.close();
  });

  it('spreads one large batch over segments of at most segmentMaxBytes, so retention can drop them one by one', async () => {
    const log = await EventLog.open(dir, { segmentMaxBytes: 2048 });
    await log.append(mkBatch(0, 500));
    const files = await segmentFiles();
    expect(files.length).toBeGreaterThan(5);
    // Every closed segment is within the bound (the active one may still grow).
    for (const f of files.slice(0, -1)) expect((await stat(join(dir, f))).size).toBeLessThanOrEqual(2048);
    expectContiguous(await readAll(log), 1, 500);
    expect(await log.applyRetention({ maxEvents: 100, nowUs: 0 })).toBeGreaterThan(300);
    expect(log.firstIndex).toBeGreaterThan(300);
    await log.close();
  });

  it('refuses an append that does not continue the index', async () => {
    const log = await EventLog.open(dir);
    await log.append(mkBatch(0, 3));
    await expect(log.append([mkEvent(5)])).rejects.toThrow(/does not continue/);
    await log.close();
  });

  it('reopening continues the index and keeps every record', async () => {
    let log = await EventLog.open(dir, { segmentMaxBytes: 2048 });
    await log.append(mkBatch(0, 50));
    await log.append(mkBatch(50, 50));
    await log.close();
    log = await EventLog.open(dir, { segmentMaxBytes: 2048 });
    expect(log.recovery.truncatedBytes).toBe(0);
    expect(log.lastIndex).toBe(100);
    await log.append(mkBatch(100, 5));
    expectContiguous(await readAll(log), 1, 105);
    expect((await segmentFiles()).length).toBeGreaterThan(1);
    await log.close();
  });

  it('locks its directory against a second open in a live process', async () => {
    const log = await EventLog.open(dir);
    await expect(EventLog.open(dir)).rejects.toMatchObject({ code: 'EVENTS_STORE_LOCKED' });
    await log.close();
    const again = await EventLog.open(dir);
    await again.close();
  });

  it('takes over a lock left by a killed run, even one naming our own pid (containers reuse pid 1)', async () => {
    await writeFile(join(dir, 'LOCK'), String(process.pid));
    const log = await EventLog.open(dir);
    await log.close();
    await writeFile(join(dir, 'LOCK'), '999999999'); // no such process
    const again = await EventLog.open(dir);
    await again.close();
  });

  it('finds indexes by time', async () => {
    const log = await EventLog.open(dir, { segmentMaxBytes: 1024 });
    await log.append(Array.from({ length: 40 }, (_, i) => mkEvent(i + 1, 1000 * (i + 1))));
    expect(log.indexAtOrAfter(0)).toBe(1);
    expect(log.indexAtOrAfter(20_000)).toBe(20);
    expect(log.indexAtOrAfter(20_001)).toBe(21);
    expect(log.indexAtOrAfter(10_000_000)).toBe(41);
    await log.close();
  });
});

describe('EventLog recovery', () => {
  it('drops only a torn record a crash left at the end and continues the index with no gap', async () => {
    let log = await EventLog.open(dir);
    await log.append(mkBatch(0, 10));
    await log.close();
    const [seg] = await segmentFiles();
    // What a crash mid-write leaves: the start of record 11, never committed.
    const torn = Buffer.alloc(8 + 37, 0x5a);
    torn.writeUInt32LE(200, 0);
    await appendFile(join(dir, seg as string), torn);

    log = await EventLog.open(dir);
    expect(log.lastIndex).toBe(10);
    expect(log.recovery.truncatedBytes).toBe(torn.length);
    expect(log.recovery.damaged).toBe(false);
    await log.append([mkEvent(11)]);
    expectContiguous(await readAll(log), 1, 11);
    await log.close();
  });

  it('a committed record cut off the end is lost, and its index is not handed out again', async () => {
    let log = await EventLog.open(dir);
    await log.append(mkBatch(0, 10));
    await log.close();
    const [seg] = await segmentFiles();
    const path = join(dir, seg as string);
    await truncate(path, (await stat(path)).size - 5);

    log = await EventLog.open(dir);
    expect(log.lastIndex).toBe(10);
    expect(log.recovery).toMatchObject({ damaged: true, lostIndexes: 1, nextIndex: 11 });
    await log.append([mkEvent(11)]);
    const all = await readAll(log);
    expect(all.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 11]);
    await log.close();
  });

  it('a flipped byte costs one record: the records after it are recovered and the segment is set aside', async () => {
    let log = await EventLog.open(dir);
    await log.append(mkBatch(0, 10));
    await log.close();
    const [seg] = await segmentFiles();
    const path = join(dir, seg as string);
    const size = (await stat(path)).size;
    const fh = await open(path, 'r+');
    const b = Buffer.alloc(1);
    const pos = Math.floor(size * 0.55); // inside record 6
    await fh.read(b, 0, 1, pos);
    b[0] = (b[0] as number) ^ 0x40;
    await fh.write(b, 0, 1, pos);
    await fh.close();

    log = await EventLog.open(dir);
    expect(log.recovery).toMatchObject({ damaged: true, lostIndexes: 1, recoveredRecords: 4, nextIndex: 11, damagedSegments: [`${seg as string}.damaged`] });
    expect(log.lastIndex).toBe(10);
    const all = await readAll(log);
    expect(all.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 7, 8, 9, 10]);
    expect(all).toEqual([1, 2, 3, 4, 5, 7, 8, 9, 10].map((i) => mkEvent(i)));
    await log.append([mkEvent(11)]);
    expect((await log.read(11, 5)).map((e) => e.index)).toEqual([11]);
    await log.close();
  });

  it('keeps later segments when an earlier one is cut: the lost index stays a gap, never reused', async () => {
    let log = await EventLog.open(dir, { segmentMaxBytes: 1024 });
    for (let i = 0; i < 10; i++) await log.append(mkBatch(i * 10, 10));
    await log.close();
    const segs = await segmentFiles();
    expect(segs.length).toBeGreaterThan(3);
    const victim = join(dir, segs[1] as string);
    await truncate(victim, (await stat(victim)).size - 3);

    log = await EventLog.open(dir, { segmentMaxBytes: 1024 });
    expect(log.recovery.damagedSegments).toEqual([`${segs[1] as string}.damaged`]);
    expect(log.recovery.lostIndexes).toBe(1);
    expect(log.lastIndex).toBe(100);
    const all = await readAll(log);
    expect(all.length).toBe(99);
    expect(new Set(all.map((e) => e.index)).size).toBe(99);
    await log.append([mkEvent(101)]);
    expect((await log.read(101, 1))[0]).toEqual(mkEvent(101));
    await log.close();
  });
});

describe('EventLog retention', () => {
  it('drops whole old segments beyond the count limit, never the active one', async () => {
    const log = await EventLog.open(dir, { segmentMaxBytes: 1024 });
    for (let i = 0; i < 20; i++) await log.append(mkBatch(i * 10, 10));
    const before = (await segmentFiles()).length;
    const removed = await log.applyRetention({ maxEvents: 50, nowUs: Date.now() * 1000 });
    expect(removed).toBeGreaterThan(0);
    expect(log.firstIndex).toBe(removed + 1);
    // At least the newest 50 survive, and at most one extra segment's worth.
    expect(log.lastIndex - log.firstIndex + 1).toBeGreaterThanOrEqual(50);
    expect((await segmentFiles()).length).toBeLessThan(before);
    expectContiguous(await readAll(log), log.firstIndex, 200);
    expect(await log.read(1, 5)).toEqual(await log.read(log.firstIndex, 5));
    await log.close();
  });

  it('drops segments older than the age limit', async () => {
    const log = await EventLog.open(dir, { segmentMaxBytes: 1024 });
    const oldUs = 1_000_000_000;
    const nowUs = oldUs + 3_600_000_000; // one hour later
    await log.append(Array.from({ length: 60 }, (_, i) => mkEvent(i + 1, oldUs + i)));
    await log.append(Array.from({ length: 30 }, (_, i) => mkEvent(61 + i, nowUs - 1000 + i)));
    await log.append([mkEvent(91, nowUs)]);
    const removed = await log.applyRetention({ maxAgeMs: 60_000, nowUs });
    expect(removed).toBeGreaterThan(0);
    const kept = await readAll(log);
    expect(kept.every((e) => e.index > 60 || e.timestampUs === oldUs + e.index - 1)).toBe(true);
    expect(kept.filter((e) => e.timestampUs >= nowUs - 1000).length).toBe(31);
    await log.close();
    const reopened = await EventLog.open(dir, { segmentMaxBytes: 1024 });
    expect(reopened.firstIndex).toBe(removed + 1);
    await reopened.close();
  });

  it('rolls segments by event time too, so age retention works at low event rates', async () => {
    const minuteUs = 60_000_000;
    const log = await EventLog.open(dir, { segmentMaxAgeMs: 60_000 }); // default 64 MiB size limit
    for (let m = 0; m < 10; m++) await log.append([mkEvent(m + 1, 1_000_000_000 + m * minuteUs)]);
    expect((await segmentFiles()).length).toBe(10);
    const nowUs = 1_000_000_000 + 9 * minuteUs;
    const removed = await log.applyRetention({ maxAgeMs: 5 * 60_000 - 1, nowUs });
    expect(removed).toBe(5);
    expect(log.firstIndex).toBe(6);
    await log.close();
  });

  it('lets a read already in flight finish while its segment is removed', async () => {
    const log = await EventLog.open(dir, { segmentMaxBytes: 1024, cacheSize: 0 });
    for (let i = 0; i < 10; i++) await log.append(mkBatch(i * 10, 10));
    const reading = log.read(1, 5);
    await log.applyRetention({ maxEvents: 10, nowUs: 0 });
    expect((await reading).map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
    expect(log.firstIndex).toBeGreaterThan(1);
    await log.close();
  });
});
