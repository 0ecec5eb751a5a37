/**
 * `master --event-storage ADDR` against a real storage-server process: every event becomes a
 * concept there, linked to its agent, node and timestamp; with the server stopped for a while the
 * grid serves on, and once it is back the mirror catches up with nothing lost.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Event } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { unary } from '../../client/index.js';
import { TestStorageClient } from '../helpers/storage-client.js';
import { fakeAgent } from '../helpers/grid-client.js';
import { cleanup, eventually, startDaemon, startMaster, tempDir, type DaemonProcess } from '../helpers/processes.js';
import { EventsClient, FAST_MASTER, type SeenEvent } from './support.js';

afterEach(cleanup);

function startStorage(storagePath: string, port = 0): Promise<DaemonProcess> {
  return startDaemon('storage-server', ['storage-server', '--port', String(port), '--storage-path', storagePath]);
}

function crashEvents(from: number, n: number): Event[] {
  return Array.from({ length: n }, (_, i) => ({
    index: 0, timestampUs: 0, type: 'NodeCrashed', severity: '', agentId: '', nodeId: 'n1', cluster: 'kv',
    payloadJson: JSON.stringify({ exitCode: from + i }), count: 1, lastSeenUs: 0, message: '',
  }));
}

const conceptId = (e: SeenEvent): string => `event-${e.type}-${e.timestampUs}`;

/** Events of the master's log that the storage-server does not hold yet. */
async function unmirrored(events: readonly SeenEvent[], storage: TestStorageClient): Promise<SeenEvent[]> {
  const missing: SeenEvent[] = [];
  for (const e of events) if (!(await storage.queryConcept(conceptId(e))).found) missing.push(e);
  return missing;
}

describe('events mirrored to a storage-server', () => {
  it('each event is a concept linked to its agent, node and time; an outage of the server loses nothing', async () => {
    const storagePath = tempDir('event-storage-');
    let storageServer = await startStorage(storagePath);
    const storageAddress = storageServer.address;
    const port = Number(storageAddress.split(':')[1]);
    const master = await startMaster({ args: [...FAST_MASTER, '--event-storage', storageAddress] });
    const c = new EventsClient(master.address);
    let storage = new TestStorageClient(storageAddress);
    try {
      const report = (events: Event[]): Promise<unknown> => unary(c.raw.reportNodeEvents as never, c.raw, { agentId: 'a1', events }, undefined, 5000);
      await c.register(fakeAgent('a1'));
      await report(crashEvents(1, 5));

      // THEN every event is a concept on the storage-server, its content the event itself
      const first = await eventually(async () => {
        const events = await c.list();
        return events.filter((e) => e.type === 'NodeCrashed').length === 5 && (await unmirrored(events, storage)).length === 0 ? events : undefined;
      }, 15_000, 200);
      const crash = first.find((e) => e.type === 'NodeCrashed')!;
      const concept = (await storage.queryConcept(conceptId(crash))).concept!;
      expect(JSON.parse(concept.content)).toMatchObject({ index: crash.index, type: 'NodeCrashed', agentId: 'a1', nodeId: 'n1', cluster: 'kv', payload: { exitCode: 1 } });
      expect(concept.attributes).toMatchObject({ kind: 'event', type: 'NodeCrashed', severity: 'error', index: String(crash.index), agent_id: 'a1', node_id: 'n1', cluster: 'kv' });
      // ... linked from its agent and its node, and to its timestamp
      const fromAgent = (await storage.neighbors('agent-a1', 'has_event')).associations.map((a) => a.targetId);
      expect(fromAgent).toEqual(expect.arrayContaining(first.filter((e) => e.agentId === 'a1').map(conceptId)));
      const fromNode = (await storage.neighbors('node-n1', 'has_event')).associations.map((a) => a.targetId);
      expect(new Set(fromNode)).toEqual(new Set(first.filter((e) => e.nodeId === 'n1').map(conceptId)));
      const at = (await storage.neighbors(conceptId(crash), 'at_time')).associations;
      expect(at.map((a) => a.targetId)).toEqual([`ts-${crash.timestampUs}`]);
      expect((await storage.queryConcept(`ts-${crash.timestampUs}`)).concept?.attributes).toMatchObject({ kind: 'time', timestamp_us: String(crash.timestampUs) });

      // WHEN the storage-server is away for a while
      storage.close();
      await storageServer.stop('SIGTERM');
      await report(crashEvents(6, 20));
      await new Promise((r) => setTimeout(r, 1500));
      // THEN the grid serves on: the events are in its own log
      const during = await c.list();
      expect(during.filter((e) => e.type === 'NodeCrashed')).toHaveLength(25);
      expect((await c.clusterStatus()).eventStoreError).toBe('');

      // WHEN it comes back on the same address
      storageServer = await startStorage(storagePath, port);
      storage = new TestStorageClient(storageAddress);

      // THEN the mirror catches up: every event of the log is there, including the outage's
      await eventually(async () => (await unmirrored(await c.list(), storage)).length === 0, 30_000, 300);
      const fromNodeAfter = (await storage.neighbors('node-n1', 'has_event')).associations.map((a) => a.targetId);
      expect(new Set(fromNodeAfter)).toEqual(new Set((await c.list({ nodeId: 'n1' })).map(conceptId)));
      expect(fromNodeAfter).toHaveLength(25);
    } finally {
      storage.close();
      c.close();
    }
  });
});
