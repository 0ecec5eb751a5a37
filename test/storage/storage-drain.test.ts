/**
 * The storage-server's stop is bounded whatever its clients do (issue 18): a paused client holding
 * a stream open does not keep a SIGTERM waiting for the agent's SIGKILL.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestStorageClient } from '../helpers/storage-client.js';
import { cleanup, runCli, startDaemon, tempDir } from '../helpers/processes.js';
import { stalledClient } from './support/stalled-client.js';

afterEach(cleanup);

function startStorage(storagePath: string, extra: string[] = []) {
  return startDaemon('storage-server', ['storage-server', '--port', '0', '--storage-path', storagePath, ...extra]);
}

/** SIGTERM, then how long the server took to exit and how. */
async function timedStop(server: Awaited<ReturnType<typeof startStorage>>): Promise<{ ms: number; code: number | null; signal: NodeJS.Signals | null }> {
  const t0 = Date.now();
  // 15 s before SIGKILL: longer than an agent's default grace, so a stall would show as a timeout.
  const exit = await server.stop('SIGTERM', 15_000);
  return { ms: Date.now() - t0, ...exit };
}

describe('storage-server drain', () => {
  it('exits within the default drain (2 s) with a stalled client holding a stream, its writes kept', async () => {
    const path = join(tempDir('storage-'), 'node');
    const server = await startStorage(path);
    const c = new TestStorageClient(server.address);
    await c.learnConcept('k', 'kept');
    c.close();
    await stalledClient(server.address);

    const stop = await timedStop(server);
    expect(stop).toMatchObject({ code: 0, signal: null });
    expect(stop.ms).toBeGreaterThanOrEqual(1_900); // the stream got its drain time
    expect(stop.ms).toBeLessThan(4_000);

    const again = await startStorage(path);
    const c2 = new TestStorageClient(again.address);
    try {
      expect((await c2.queryConcept('k')).concept).toMatchObject({ content: 'kept' });
    } finally {
      c2.close();
    }
  });

  it('honours --drain-timeout', async () => {
    const server = await startStorage(join(tempDir('storage-'), 'node'), ['--drain-timeout', '300ms']);
    await stalledClient(server.address);
    const stop = await timedStop(server);
    expect(stop).toMatchObject({ code: 0, signal: null });
    expect(stop.ms).toBeLessThan(1_800);
  });

  it('exits at once when no client is connected', async () => {
    const server = await startStorage(join(tempDir('storage-'), 'node'));
    const stop = await timedStop(server);
    expect(stop).toMatchObject({ code: 0, signal: null });
    expect(stop.ms).toBeLessThan(1_500);
  });

  it('refuses a bad --drain-timeout naming the flag', async () => {
    const res = await runCli(['storage-server', '--port', '0', '--storage-path', join(tempDir('storage-'), 'n'), '--drain-timeout', 'soon']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/--drain-timeout: must be a duration/);
  });
});
