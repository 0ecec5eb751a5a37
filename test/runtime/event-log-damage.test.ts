/**
 * A real master's event log damaged between two runs: a byte flipped mid-segment, a zero-length
 * segment, a deleted events directory. Whatever is lost, no index is handed out twice (an index
 * the first run listed names the same event afterwards, or nothing), the records after a flipped
 * byte come back, and the master says so: an EventLogRecovered event, an error log line with the
 * file and offsets, and `status`.
 */
import { openSync, readSync, readdirSync, rmSync, statSync, truncateSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Event } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { unary } from '../../client/index.js';
import { fakeAgent } from '../helpers/grid-client.js';
import { cleanup, eventually, runCli, startMaster, tempDir } from '../helpers/processes.js';
import { EventsClient, type SeenEvent } from '../events-e2e/support.js';

afterEach(cleanup);

const SEEDED = 60;

function crashes(from: number, n: number): Event[] {
  return Array.from({ length: n }, (_, i) => ({
    index: 0, timestampUs: 0, type: 'NodeCrashed', severity: '', agentId: '', nodeId: `n${from + i}`, cluster: '',
    payloadJson: JSON.stringify({ exitCode: from + i }), count: 1, lastSeenUs: 0, message: '',
  }));
}

/** A master that recorded SEEDED crash reports and stopped; returns its data dir and every event it listed. */
async function seeded(): Promise<{ dataDir: string; before: SeenEvent[] }> {
  const dataDir = tempDir('master-events-');
  const master = await startMaster({ dataDir });
  const c = new EventsClient(master.address);
  try {
    await c.register(fakeAgent('a1'));
    await unary(c.raw.reportNodeEvents as never, c.raw, { agentId: 'a1', events: crashes(0, SEEDED) }, undefined, 5000);
    const before = await eventually(async () => {
      const all = await c.list();
      return all.filter((e) => e.type === 'NodeCrashed').length === SEEDED ? all : undefined;
    });
    await master.stop('SIGTERM');
    return { dataDir, before };
  } finally {
    c.close();
  }
}

/** Restarts on `dataDir`, adds 5 crash reports, and checks every invariant the damage must not break. */
async function restartAndCheck(dataDir: string, before: readonly SeenEvent[]): Promise<{ after: SeenEvent[]; recovered: SeenEvent; logs: string; status: string }> {
  const master = await startMaster({ dataDir });
  const c = new EventsClient(master.address);
  try {
    const recovered = await c.waitFor('EventLogRecovered');
    await c.register(fakeAgent('a1'));
    await unary(c.raw.reportNodeEvents as never, c.raw, { agentId: 'a1', events: crashes(1000, 5) }, undefined, 5000);
    const after = await eventually(async () => {
      const all = await c.list();
      return all.filter((e) => e.type === 'NodeCrashed' && Number(e.payload['exitCode']) >= 1000).length === 5 ? all : undefined;
    });
    // No index reused: an index from before names the very same event, or is gone.
    const old = new Map(before.map((e) => [e.index, e]));
    for (const e of after) {
      const was = old.get(e.index);
      if (was !== undefined) expect(e).toEqual(was);
    }
    const maxBefore = Math.max(...before.map((e) => e.index));
    for (const e of after.filter((x) => !old.has(x.index))) expect(e.index).toBeGreaterThan(maxBefore);
    expect(recovered.index).toBe(maxBefore + 1);
    expect(new Set(after.map((e) => e.index)).size).toBe(after.length);
    const status = await runCli(['status', '--json', '--master', master.address]);
    expect(status.code, status.stderr).toBe(0);
    return { after, recovered, logs: master.logs(), status: status.stdout };
  } finally {
    c.close();
  }
}

function onlySegment(dataDir: string): string {
  const segs = readdirSync(join(dataDir, 'events')).filter((n) => n.endsWith('.log'));
  expect(segs).toHaveLength(1);
  return join(dataDir, 'events', segs[0] as string);
}

describe('a damaged event log at a real master', () => {
  it('a byte flipped mid-segment: the records after it are recovered, the segment set aside, nothing reused', async () => {
    const { dataDir, before } = await seeded();
    const seg = onlySegment(dataDir);
    const pos = Math.floor(statSync(seg).size / 2);
    const fd = openSync(seg, 'r+');
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, pos);
    b[0] = (b[0] as number) ^ 0xff;
    writeSync(fd, b, 0, 1, pos);
    closeSync(fd);

    const { after, recovered, logs, status } = await restartAndCheck(dataDir, before);
    // Exactly one record (the one holding the byte) is gone; all the others, before and after, stay.
    const kept = before.filter((e) => after.some((a) => a.index === e.index));
    expect(kept.length).toBe(before.length - 1);
    expect(recovered.payload).toMatchObject({ damagedFiles: 1, lostIndexes: 1 });
    expect(Number(recovered.payload['recoveredRecords'])).toBeGreaterThan(SEEDED / 4);
    expect(readdirSync(join(dataDir, 'events')).filter((n) => n.endsWith('.damaged'))).toHaveLength(1);
    expect(logs).toMatch(/event log recovery: seg-\d{16}\.log: \d+ bytes, bad bytes at offsets \d+-\d+/);
    expect(status).toMatch(/damaged on disk, recovered at start: 1 damaged segment\(s\) set aside/);
  });

  it('a zero-length segment: the index continues after the last one handed out', async () => {
    const { dataDir, before } = await seeded();
    truncateSync(onlySegment(dataDir), 0);
    const { recovered, status } = await restartAndCheck(dataDir, before);
    expect(recovered.payload).toMatchObject({ lostIndexes: before.length, nextIndex: before.length + 1 });
    expect(status).toMatch(new RegExp(`${before.length} indexes lost \\(never reused\\)`));
  });

  it('a deleted events dir: the index continues after the last one handed out', async () => {
    const { dataDir, before } = await seeded();
    rmSync(join(dataDir, 'events'), { recursive: true });
    const { after, recovered } = await restartAndCheck(dataDir, before);
    expect(recovered.payload).toMatchObject({ damagedFiles: 0, lostIndexes: before.length, nextIndex: before.length + 1 });
    expect(String(recovered.payload['report'])).toMatch(/no segment found, but indexes up to \d+ were handed out/);
    expect(after[0]?.index).toBe(before.length + 1);
  });
});
