/**
 * The master's event store fails for real: its directory is a tiny tmpfs that the test fills up
 * (ENOSPC). The master serves on, buffers up to --event-buffer, counts what it drops, says so in
 * `status`, and when space returns writes the buffer with no gap and an EventStoreRecovered event.
 *
 * Needs root (mount). These tests run as root here; elsewhere the unit-level failing-store tests
 * in test/events cover the bus logic.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Event } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { unary } from '../../client/index.js';
import { fakeAgent } from '../helpers/grid-client.js';
import { cleanup, eventually, runCli, startMaster, tempDir, type DaemonProcess } from '../helpers/processes.js';
import { EventsClient, FAST_MASTER, contiguous } from './support.js';

const mounts: string[] = [];
let master: DaemonProcess | undefined;
afterEach(async () => {
  // The master holds files on the mount: stop it first, then unmount, then remove the dirs.
  await master?.stop('SIGKILL');
  master = undefined;
  for (const m of mounts.splice(0)) execFileSync('umount', ['-l', m]);
  await cleanup();
});

/** A tmpfs of `size` mounted at `dir` (created), unmounted after the test. */
function tinyFs(dir: string, size: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  mounts.push(dir);
}

/** Fills the filesystem of `dir` to the last byte. */
function fill(dir: string): void {
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${join(dir, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
  } catch {
    // dd ends with "No space left on device": that is the point
  }
}

function crashEvents(from: number, n: number): Event[] {
  return Array.from({ length: n }, (_, i) => ({
    index: 0, timestampUs: 0, type: 'NodeCrashed', severity: '', agentId: '', nodeId: 'n1', cluster: '',
    payloadJson: JSON.stringify({ exitCode: from + i }), count: 1, lastSeenUs: 0, message: '',
  }));
}

describe('event store failure (a full disk, for real)', () => {
  it('serves on, buffers up to --event-buffer, counts drops in status, and recovers with no gap', async () => {
    const dataDir = tempDir('master-');
    const eventsDir = join(dataDir, 'events');
    tinyFs(eventsDir, '1m');
    master = await startMaster({ dataDir, args: [...FAST_MASTER, '--event-buffer', '50', '--degraded-after', '60s', '--offline-after', '120s'] });
    const c = new EventsClient(master.address);
    try {
      // The master records events of registered agents only. a1 registers and is never degraded
      // within the test (long thresholds), so nothing but these reports makes events afterwards.
      await c.register(fakeAgent('a1'));
      const report = (events: Event[]): Promise<unknown> => unary(c.raw.reportNodeEvents as never, c.raw, { agentId: 'a1', events }, undefined, 5000);
      await report(crashEvents(0, 1));
      await eventually(async () => (await c.list()).some((e) => e.type === 'NodeCrashed'));
      const before = (await c.listRaw()).lastIndex;

      // WHEN the disk under the event store is full and 120 events arrive
      fill(eventsDir);
      await report(crashEvents(1, 120));

      // THEN the master still serves, and status says events are being lost and why
      const status = await eventually(async () => {
        const s = await c.clusterStatus();
        return s.eventStoreError !== '' && s.eventsDropped > 0 ? s : undefined;
      }, 10_000);
      expect(status.eventStoreError).toMatch(/ENOSPC|no space/i);
      expect(status.eventsDropped).toBe(70); // 120 reported, 50 buffered
      // The registration below is served; its two events are dropped too (the buffer is full).
      expect((await c.register(fakeAgent('a1'))).masterId).not.toBe('');
      expect((await c.listAgents()).agents.map((a) => a.info?.agentId)).toEqual(['a1']);
      await c.unregister('a1');
      expect(master.logs()).toMatch(/event store write failed; buffering events/);
      const cli = await runCli(['status', '--json', '--master', master.address]);
      expect(cli.code, cli.stderr).toBe(0);
      const view = JSON.parse(cli.stdout) as Record<string, unknown>;
      expect(view['events']).toEqual({ dropped: 72, storeError: status.eventStoreError });
      expect(Object.keys(view)).toEqual(['agents', 'nodes', 'health', 'events']);
      const text = await runCli(['status', '--master', master.address]);
      expect(text.stdout).toMatch(/^events\s+72 dropped; store failing: .*(ENOSPC|no space)/im);
      // Nothing new is listed while the store cannot take it.
      expect((await c.listRaw()).lastIndex).toBe(before);

      // WHEN space comes back
      rmSync(join(eventsDir, 'filler'));

      // THEN the buffered 50 are written after the old ones, no gap, then EventStoreRecovered
      const recovered = await c.waitFor('EventStoreRecovered', () => true, 15_000);
      expect(recovered).toMatchObject({ severity: 'warning', payload: { dropped: 72, downForMs: expect.any(Number), error: expect.stringMatching(/ENOSPC|no space/i) } });
      const all = await c.list();
      contiguous(all, all[0]!.index);
      const crashes = all.filter((e) => e.type === 'NodeCrashed').map((e) => e.payload['exitCode']);
      expect(crashes).toEqual(Array.from({ length: 51 }, (_, i) => i));
      const after = await c.clusterStatus();
      expect(after.eventStoreError).toBe('');
      expect(after.eventsDropped).toBe(72); // a running total: what was lost stays visible
      const healed = JSON.parse((await runCli(['status', '--json', '--master', master.address])).stdout) as Record<string, unknown>;
      expect(healed['events']).toEqual({ dropped: 72, storeError: '' });

      // AND the log reopens cleanly after a restart: no corrupt record, the index continues
      await master.stop('SIGTERM');
      master = await startMaster({ dataDir, args: FAST_MASTER });
      const c2 = new EventsClient(master.address);
      try {
        const reopened = await c2.list();
        expect(reopened.slice(0, all.length).map((e) => e.index)).toEqual(all.map((e) => e.index));
        contiguous(reopened, reopened[0]!.index);
      } finally {
        c2.close();
      }
    } finally {
      c.close();
    }
  });
});
