/**
 * The bundled storage-server as a real process (`sutra-grid storage-server`), plus its durable
 * store in-process for the crash cases a process test cannot stage precisely (torn tail).
 */
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, makeGenericClientConstructor, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { service as referenceHealthService } from 'grpc-health-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ConceptStore } from '../../runtime/storage/concept-store.js';
import { codeOf, healthCheck } from '../helpers/agent-processes.js';
import { TestStorageClient } from '../helpers/storage-client.js';
import { cleanup, runCli, startDaemon, tempDir } from '../helpers/processes.js';

afterEach(cleanup);

function startStorage(storagePath: string, extra: string[] = []) {
  return startDaemon('storage-server', ['storage-server', '--port', '0', '--storage-path', storagePath, ...extra]);
}

describe('storage-server process', () => {
  it('learns concepts and associations, answers queries and neighbors, and reports SERVING', async () => {
    const server = await startStorage(join(tempDir('storage-'), 'node'));
    const c = new TestStorageClient(server.address);
    try {
      expect((await healthCheck(server.address)).status).toBe('SERVING');

      expect(await c.learnConcept('c1', 'the sky is blue', { source: 'test' })).toEqual({ id: 'c1', created: true });
      expect(await c.learnConcept('c1', 'the sky is blue', { source: 'test' })).toEqual({ id: 'c1', created: false });
      // An empty id is derived from the content, stably.
      const derived = await c.learnConcept('', 'rain');
      expect(derived.id).toMatch(/^[0-9a-f]{32}$/);
      expect((await c.learnConcept('', 'rain')).id).toBe(derived.id);

      expect(await c.learnAssociation({ sourceId: 'c1', targetId: derived.id, type: 'causes', confidence: 0.8 })).toEqual({ created: true });
      await c.learnAssociation({ sourceId: 'c2', targetId: 'c1', type: 'at_time', confidence: 1 });

      const q = await c.queryConcept('c1');
      expect(q.found).toBe(true);
      expect(q.concept).toMatchObject({ id: 'c1', content: 'the sky is blue', attributes: { source: 'test' } });
      expect(q.concept!.createdAtMs).toBeGreaterThan(0);
      expect((await c.queryConcept('missing')).found).toBe(false);

      // Both directions, filterable by type, capped by limit.
      expect((await c.neighbors('c1')).associations.map((a) => [a.sourceId, a.targetId, a.type])).toEqual([
        ['c1', derived.id, 'causes'],
        ['c2', 'c1', 'at_time'],
      ]);
      expect((await c.neighbors('c1', 'at_time')).associations).toHaveLength(1);
      expect((await c.neighbors('c1', '', 1)).associations).toHaveLength(1);

      const bad = await codeOf(c.learnAssociation({ sourceId: 'a', targetId: 'b', type: 't', confidence: 2 }));
      expect(bad.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(bad.details).toContain('association.confidence');
      expect((await codeOf(c.queryConcept(''))).code).toBe(GrpcStatus.INVALID_ARGUMENT);
    } finally {
      c.close();
    }
  });

  it('keeps its data across a restart and exits 0 on SIGTERM', async () => {
    const path = join(tempDir('storage-'), 'node');
    const first = await startStorage(path);
    const c1 = new TestStorageClient(first.address);
    await c1.learnConcept('k', 'kept', { n: '1' });
    await c1.learnAssociation({ sourceId: 'k', targetId: 'other', type: 'rel', confidence: 0.5 });
    c1.close();
    expect(await first.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    const second = await startStorage(path);
    const c2 = new TestStorageClient(second.address);
    try {
      expect((await c2.queryConcept('k')).concept).toMatchObject({ content: 'kept', attributes: { n: '1' } });
      expect((await c2.neighbors('other')).associations).toEqual([{ sourceId: 'k', targetId: 'other', type: 'rel', confidence: 0.5 }]);
    } finally {
      c2.close();
    }
  });

  it('keeps acknowledged writes after kill -9', async () => {
    const path = join(tempDir('storage-'), 'node');
    const first = await startStorage(path);
    const c1 = new TestStorageClient(first.address);
    await Promise.all(Array.from({ length: 20 }, (_, i) => c1.learnConcept(`k${i}`, `v${i}`)));
    c1.close();
    await first.stop('SIGKILL');

    const second = await startStorage(path);
    const c2 = new TestStorageClient(second.address);
    try {
      for (let i = 0; i < 20; i++) expect((await c2.queryConcept(`k${i}`)).concept?.content).toBe(`v${i}`);
    } finally {
      c2.close();
    }
  });

  it('serves the standard health protocol (checked with the reference grpc-health-check client)', async () => {
    const server = await startStorage(join(tempDir('storage-'), 'node'));
    const Reference = makeGenericClientConstructor(referenceHealthService, 'Health');
    const ref = new Reference(server.address, credentials.createInsecure()) as unknown as {
      check(r: object, cb: (e: ServiceError | null, r: { status: string }) => void): void;
      close(): void;
    };
    try {
      const res = await new Promise<{ status: string }>((resolve, reject) => ref.check({ service: '' }, (e, r) => (e ? reject(e) : resolve(r))));
      expect(res.status).toBe('SERVING');
      const unknown = await new Promise<ServiceError | null>((resolve) => ref.check({ service: 'nope' }, (e) => resolve(e)));
      expect(unknown?.code).toBe(GrpcStatus.NOT_FOUND);
    } finally {
      ref.close();
    }
  });

  it('refuses bad arguments with one line naming the flag and exit 1', async () => {
    const dir = tempDir('storage-');
    const badPort = await runCli(['storage-server', '--port', 'eighty', '--storage-path', dir]);
    expect(badPort.code).toBe(1);
    expect(badPort.stderr.trim().split('\n')).toHaveLength(1);
    expect(badPort.stderr).toContain('--port');

    const noPath = await runCli(['storage-server', '--port', '0']);
    expect(noPath.code).toBe(1);
    expect(noPath.stderr).toContain('--storage-path');

    const open = await runCli(['storage-server', '--port', '0', '--storage-path', dir, '--host', '0.0.0.0']);
    expect(open.code).toBe(1);
    expect(open.stderr).toContain('--host');
  });
});

describe('concept store log', () => {
  it('tolerates a torn tail: intact records survive, the garbage is cut off', async () => {
    const dir = tempDir('store-');
    const { store } = await ConceptStore.open(dir);
    await store.learnConcept('a', 'alpha', {});
    await store.learnConcept('b', 'beta', {});
    await store.close();
    const log = join(dir, 'store.log');
    const intact = statSync(log).size;
    // A crash mid-write: a header promising 100 bytes, followed by only a few.
    const torn = Buffer.alloc(12);
    torn.writeUInt32LE(100, 0);
    appendFileSync(log, torn);

    const reopened = await ConceptStore.open(dir);
    expect(reopened.truncatedBytes).toBe(12);
    expect(reopened.store.getConcept('a')?.content).toBe('alpha');
    expect(reopened.store.getConcept('b')?.content).toBe('beta');
    expect(statSync(log).size).toBe(intact);
    // Writes after the repair land after the intact records and are read back.
    await reopened.store.learnConcept('c', 'gamma', {});
    await reopened.store.close();
    const third = await ConceptStore.open(dir);
    expect([third.store.getConcept('c')?.content, third.truncatedBytes]).toEqual(['gamma', 0]);
    await third.store.close();
  });

  it('stops at a record whose CRC does not match', async () => {
    const dir = tempDir('store-');
    const { store } = await ConceptStore.open(dir);
    await store.learnConcept('a', 'alpha', {});
    await store.learnConcept('b', 'beta', {});
    await store.close();
    const log = join(dir, 'store.log');
    const bytes = readFileSync(log);
    // Flip one byte of the last record's payload.
    bytes[bytes.length - 2] = bytes[bytes.length - 2]! ^ 0xff;
    writeFileSync(log, bytes);
    const reopened = await ConceptStore.open(dir);
    expect(reopened.store.getConcept('a')?.content).toBe('alpha');
    expect(reopened.store.getConcept('b')).toBeUndefined();
    expect(reopened.truncatedBytes).toBeGreaterThan(0);
    await reopened.store.close();
  });

  it('refuses writes past its memory budget with RESOURCE_EXHAUSTED semantics', async () => {
    const dir = tempDir('store-');
    const { store } = await ConceptStore.open(dir, 1);
    await expect(store.learnConcept('big', 'x'.repeat(2 * 1024 * 1024), {})).rejects.toMatchObject({ code: 'CAPACITY_EXCEEDED' });
    expect(store.getConcept('big')).toBeUndefined();
    await store.close();
  });
});
