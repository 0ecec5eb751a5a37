import { credentials } from '@grpc/grpc-js';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StorageServiceClient } from '../../proto/gen/sutra/grid/v1/storage.pb.js';
import {
  EventBus,
  StorageMirror,
  eventConceptId,
  mirrorClientFrom,
  mirrorCursorPath,
  type GridEvent,
  type MirrorAssociation,
  type MirrorClient,
  type MirrorConcept,
} from '../../runtime/events/index.js';
import { StorageServer } from '../../runtime/storage/index.js';
import { tempDir } from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** An in-memory StorageService that can be "down". */
class FakeStorage implements MirrorClient {
  down = false;
  readonly concepts = new Map<string, MirrorConcept>();
  readonly associations: MirrorAssociation[] = [];
  calls = 0;
  async learnConcept(req: MirrorConcept) {
    this.calls++;
    if (this.down) throw new Error('14 UNAVAILABLE: connection refused');
    const created = !this.concepts.has(req.id);
    this.concepts.set(req.id, req);
    return { id: req.id, created };
  }
  async learnAssociation(req: MirrorAssociation) {
    this.calls++;
    if (this.down) throw new Error('14 UNAVAILABLE: connection refused');
    this.associations.push(req);
    return { created: true };
  }
}

const crash = (n: number) => ({ type: 'NodeCrashed' as const, agentId: 'a1', nodeId: `n${n}`, payload: { exitCode: n } });

describe('StorageMirror', () => {
  it('writes each event as concept + associations, survives an outage and catches up with no loss', async () => {
    const bus = await EventBus.open(join(dir, 'events'), { flushIntervalMs: 5 });
    const fake = new FakeStorage();
    const cursorPath = mirrorCursorPath(join(dir, 'events'), '127.0.0.1:7000');
    const mirror = new StorageMirror(bus, fake, { cursorPath, retryMinMs: 10, retryMaxMs: 40 });
    await mirror.start();
    bus.emit(crash(1));
    await waitFor(() => mirror.stats().cursor === 1);
    const [e1] = (await bus.list()).events as [GridEvent];
    const id = eventConceptId(e1);
    expect(id).toBe(`event-NodeCrashed-${e1.timestampUs}`);
    expect(JSON.parse(fake.concepts.get(id)!.content)).toMatchObject({ index: 1, type: 'NodeCrashed', payload: { exitCode: 1 } });
    const assoc = fake.associations.map((a) => [a.sourceId, a.targetId, a.type]);
    expect(assoc).toEqual(
      expect.arrayContaining([
        ['agent-a1', id, 'has_event'],
        ['node-n1', id, 'has_event'],
        [id, `ts-${e1.timestampUs}`, 'at_time'],
      ]),
    );

    // GIVEN the server goes down WHEN events keep coming THEN the grid keeps working and the mirror lags
    fake.down = true;
    for (let i = 2; i <= 30; i++) bus.emit(crash(i));
    await bus.flush();
    await waitFor(() => mirror.stats().lastError !== null);
    expect(bus.stats().lastIndex).toBe(30);
    expect(mirror.stats().lag).toBeGreaterThan(0);

    // WHEN it returns THEN the mirror catches up from the log
    fake.down = false;
    await waitFor(() => mirror.stats().cursor === 30);
    expect(mirror.stats()).toMatchObject({ lag: 0, skipped: 0, lastError: null });
    const events = (await bus.list()).events;
    for (const e of events) expect(fake.concepts.has(eventConceptId(e))).toBe(true);

    // A restarted mirror resumes from its cursor, sending only what is new.
    await mirror.stop();
    const before = fake.concepts.size;
    const again = new StorageMirror(bus, fake, { cursorPath, retryMinMs: 10 });
    await again.start();
    bus.emit(crash(31));
    await waitFor(() => again.stats().cursor === 31);
    expect(fake.concepts.size).toBe(before + 3); // event, its ts, node-n31
    await again.stop();
    await bus.close();
  });

  it('end to end against a real storage-server that stops and comes back', async () => {
    const storagePath = join(dir, 'storage');
    let server = await StorageServer.start({ port: 0, storagePath, memoryMb: 0, host: '127.0.0.1' });
    const port = server.port;
    const grpcClient = new StorageServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    const bus = await EventBus.open(join(dir, 'events'), { flushIntervalMs: 5 });
    const mirror = new StorageMirror(bus, mirrorClientFrom(grpcClient, undefined, 2000), {
      cursorPath: mirrorCursorPath(join(dir, 'events'), `127.0.0.1:${port}`),
      retryMinMs: 50,
      retryMaxMs: 300,
    });
    await mirror.start();
    for (let i = 1; i <= 5; i++) bus.emit(crash(i));
    await waitFor(() => mirror.stats().cursor === 5);

    await server.shutdown();
    for (let i = 6; i <= 10; i++) bus.emit(crash(i));
    await bus.flush();
    await waitFor(() => mirror.stats().lastError !== null);
    server = await StorageServer.start({ port, storagePath, memoryMb: 0, host: '127.0.0.1' });
    await waitFor(() => mirror.stats().cursor === 10, 30_000);

    const query = (method: 'queryConcept' | 'getNeighbors', req: object) =>
      new Promise<any>((resolve, reject) =>
        (grpcClient[method] as any)(req, (err: unknown, res: unknown) => (err ? reject(err) : resolve(res))),
      );
    const events = (await bus.list()).events;
    expect(events).toHaveLength(10);
    for (const e of events) {
      const q = await query('queryConcept', { id: eventConceptId(e) });
      expect(q.found).toBe(true);
      expect(JSON.parse(q.concept.content)).toMatchObject({ index: e.index, nodeId: e.nodeId });
    }
    const n7 = await query('getNeighbors', { id: 'node-n7', type: 'has_event', limit: 0 });
    expect(n7.associations.map((a: { targetId: string }) => a.targetId)).toEqual([eventConceptId(events[6]!)]);
    const agent = await query('getNeighbors', { id: 'agent-a1', type: 'has_event', limit: 0 });
    expect(agent.associations).toHaveLength(10);

    await mirror.stop();
    await bus.close();
    grpcClient.close();
    await server.shutdown();
  });
});
