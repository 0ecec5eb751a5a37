/**
 * Damage on disk that a crash cannot cause: a flipped byte in a sealed segment, a zero-length
 * segment, a deleted events directory. Indexes are never handed out twice (the high-water mark
 * outside the events dir says where the log was), the records around the damage are kept, the
 * damaged file is set aside, and the bus reports what happened with an EventLogRecovered event.
 */
import { copyFile, mkdir, open, readdir, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus, EventLog, type GridEvent } from '../../runtime/events/index.js';
import { mkBatch, mkEvent, tempDir } from './helpers.js';

let root: string;
let dir: string;
let hwm: string;
beforeEach(async () => {
  root = await tempDir('events-damage-');
  dir = join(root, 'events');
  hwm = join(root, 'events.hwm');
  await mkdir(dir);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function options(): { segmentMaxBytes: number; highWaterMarkPath: string } {
  return { segmentMaxBytes: 1024, highWaterMarkPath: hwm };
}

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

async function segmentFiles(): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();
}

/** 100 events over several segments, closed cleanly; returns the segment names. */
async function writeHundred(): Promise<string[]> {
  const log = await EventLog.open(dir, options());
  for (let i = 0; i < 10; i++) await log.append(mkBatch(i * 10, 10));
  await log.close();
  return segmentFiles();
}

async function flipByte(path: string, pos: number): Promise<void> {
  const fh = await open(path, 'r+');
  const b = Buffer.alloc(1);
  await fh.read(b, 0, 1, pos);
  b[0] = (b[0] as number) ^ 0x5a;
  await fh.write(b, 0, 1, pos);
  await fh.close();
}

describe('event log damage', () => {
  it('a byte flipped mid-segment loses one record: later records and segments stay, no index is reused', async () => {
    const segs = await writeHundred();
    expect(segs.length).toBeGreaterThan(3);
    const victim = join(dir, segs[1] as string);
    await flipByte(victim, Math.floor((await stat(victim)).size / 2));

    const log = await EventLog.open(dir, options());
    const r = log.recovery;
    expect(r).toMatchObject({ damaged: true, lostIndexes: 1, nextIndex: 101, damagedSegments: [`${segs[1] as string}.damaged`] });
    expect(r.recoveredRecords).toBeGreaterThan(0);
    expect(r.details.join('\n')).toMatch(new RegExp(`${segs[1] as string}: \\d+ bytes, bad bytes at offsets \\d+-\\d+`));
    const all = await readAll(log);
    expect(all.length).toBe(99);
    expect(all.every((e) => e.index >= 1 && e.index <= 100)).toBe(true);
    expect(all).toEqual(all.map((e) => mkEvent(e.index)));
    await log.append([mkEvent(101)]);
    await log.close();
    expect((await readdir(dir)).filter((n) => n.endsWith('.damaged'))).toEqual([`${segs[1] as string}.damaged`]);

    // Reopening finds a clean log: nothing more is reported, nothing more is lost.
    const again = await EventLog.open(dir, options());
    expect(again.recovery.damaged).toBe(false);
    expect(again.lastIndex).toBe(101);
    expect((await readAll(again)).length).toBe(100);
    await again.close();
  });

  it('a zero-length segment is set aside and the index continues after the last one ever written', async () => {
    const segs = await writeHundred();
    await truncate(join(dir, segs[0] as string), 0);

    const log = await EventLog.open(dir, options());
    const first = await log.read(0, 1);
    expect(log.recovery).toMatchObject({ damaged: true, nextIndex: 101, damagedSegments: [`${segs[0] as string}.damaged`] });
    expect(log.recovery.lostIndexes).toBe((first[0] as GridEvent).index - 1);
    expect(log.lastIndex).toBe(100);
    await log.append([mkEvent(101)]);
    await log.close();
  });

  it('an emptied active segment and a deleted events dir restart after the high-water mark, not at 1', async () => {
    const segs = await writeHundred();
    await truncate(join(dir, segs[segs.length - 1] as string), 0);
    let log = await EventLog.open(dir, options());
    expect(log.recovery).toMatchObject({ damaged: true, nextIndex: 101 });
    expect(log.recovery.lostIndexes).toBeGreaterThan(0);
    await log.close();
    // The gap is reported once: reopening before anything new was written finds nothing new.
    log = await EventLog.open(dir, options());
    expect(log.recovery).toMatchObject({ damaged: false, lostIndexes: 0, nextIndex: 101 });
    await log.append(mkBatch(100, 4));
    await log.close();

    await rm(dir, { recursive: true });
    log = await EventLog.open(dir, options());
    expect(log.recovery).toMatchObject({ damaged: true, lostIndexes: 104, nextIndex: 105 });
    expect(log.recovery.details.join('\n')).toMatch(/no segment found, but indexes up to 104 were handed out/);
    expect([log.firstIndex, log.lastIndex]).toEqual([105, 104]);
    await log.append([mkEvent(105)]);
    expect((await readAll(log)).map((e) => e.index)).toEqual([105]);
    await log.close();
  });

  it('finishes a rewrite a crash interrupted after its commit, and discards one interrupted before', async () => {
    const segs = await writeHundred();
    const name = segs[1] as string;
    const victim = join(dir, name);
    await flipByte(victim, Math.floor((await stat(victim)).size / 2));
    const damaged = join(root, 'damaged');
    await copyFile(victim, damaged);

    // Let recovery run once to learn which run files it writes, then replay a crash at each point.
    const log = await EventLog.open(dir, options());
    const runs = (await segmentFiles()).filter((n) => !segs.includes(n) || n === name);
    await log.close();
    expect(runs.length).toBe(2);

    // Before the commit: the damaged segment is still in place, run files half made. They go,
    // and recovery starts over from the segment.
    for (const r of runs) await rm(join(dir, r));
    for (const n of await readdir(dir)) if (n.startsWith('gap-')) await rm(join(dir, n));
    await rm(join(dir, `${name}.damaged`));
    await copyFile(damaged, victim);
    await writeFile(join(dir, `${name}.run-${(runs[1] as string).slice(4, 20)}`), 'half written');
    let again = await EventLog.open(dir, options());
    expect(again.recovery.lostIndexes).toBe(1);
    expect((await readAll(again)).length).toBe(99);
    await again.close();

    // After the commit: the segment is renamed away and the runs wait under their temp names.
    for (const r of runs) await rename(join(dir, r), join(dir, `${name}.run-${r.slice(4, 20)}`));
    again = await EventLog.open(dir, options());
    expect(again.recovery.damaged).toBe(false);
    expect((await readAll(again)).length).toBe(99);
    expect(await segmentFiles()).toEqual(expect.arrayContaining(runs));
    await again.close();
    expect((await readdir(dir)).some((n) => n.includes('.run-'))).toBe(false);
  });

  it('the bus emits EventLogRecovered first and reports the damage in its stats', async () => {
    const segs = await writeHundred();
    const victim = join(dir, segs[2] as string);
    await flipByte(victim, Math.floor((await stat(victim)).size / 3));

    const bus = await EventBus.open(dir, options());
    await bus.flush();
    const { events } = await bus.list({ types: ['EventLogRecovered'] });
    expect(events.length).toBe(1);
    const e = events[0] as GridEvent & { type: 'EventLogRecovered' };
    expect(e.index).toBe(101);
    expect(e.payload).toMatchObject({ damagedFiles: 1, lostIndexes: 1, nextIndex: 101 });
    expect(e.payload.report).toContain(`${segs[2] as string}.damaged`);
    expect(bus.stats().recovery).toMatch(/1 damaged segment\(s\) set aside .*; 1 indexes lost \(never reused\); next index 101/);
    // A watch replaying across the gap goes on after it: those indexes are gone, not retained elsewhere.
    const abort = new AbortController();
    const seen: number[] = [];
    for await (const item of bus.watch(1, undefined, abort.signal)) {
      if (item.kind !== 'event') continue;
      seen.push(item.event.index);
      if (item.event.index === 101) abort.abort();
    }
    expect(seen.length).toBe(100);
    expect(seen[seen.length - 1]).toBe(101);
    await bus.close();
  });
});
