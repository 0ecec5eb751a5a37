/**
 * A server that shuts down tells its health watchers NOT_SERVING and ends their Watch streams, so
 * its graceful drain does not wait on them (a Watch never ends by itself): the watcher sees the
 * stream end with OK, not cut by a forced shutdown. In process (startGrpcServer, the agent's and
 * nodes' server) and against a real storage-server stopped with SIGTERM.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthProbe } from '../../runtime/agent/health-probe.js';
import { startGrpcServer } from '../../runtime/common/grpc-server.js';
import { cleanup, spawnBundledStorageServer } from '../helpers/processes.js';

afterEach(cleanup);

interface Heard {
  readonly statuses: boolean[];
  readonly ended: Promise<GrpcStatus>;
  readonly cancel: () => void;
}

/** Watches `address`: the statuses heard (true = SERVING), and the code the stream ends with. */
function watch(probe: HealthProbe): Heard {
  const statuses: boolean[] = [];
  let cancel = (): void => {};
  const ended = new Promise<GrpcStatus>((resolve) => {
    cancel = probe.watch((s) => statuses.push(s), resolve);
  });
  return { statuses, ended, cancel };
}

describe('health Watch streams at shutdown', () => {
  it('close() ends them with NOT_SERVING then OK, well before the drain time', async () => {
    const server = await startGrpcServer('127.0.0.1:0', [], undefined);
    const probe = new HealthProbe(server.address);
    try {
      const heard = watch(probe);
      await expect.poll(() => heard.statuses).toEqual([true]);
      // A drain time far beyond the test's timeout: only ending the stream lets close() resolve.
      await server.close(600_000);
      expect(await heard.ended).toBe(GrpcStatus.OK);
      expect(heard.statuses).toEqual([true, false]);
    } finally {
      probe.close();
    }
  });

  it('a storage-server stopped with SIGTERM ends an open Watch with OK, not by its forced shutdown', async () => {
    const { address, child } = await spawnBundledStorageServer();
    const probe = new HealthProbe(address);
    try {
      const heard = watch(probe);
      await expect.poll(() => heard.statuses).toEqual([true]);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await heard.ended).toBe(GrpcStatus.OK);
      expect(heard.statuses).toEqual([true, false]);
      expect(await exited).toBe(0);
    } finally {
      probe.close();
    }
  });
});
