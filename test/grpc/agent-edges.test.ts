/**
 * The GridAgent's wire edge, which it shares with every server (startGrpcServer): a malformed body
 * spawns nothing, and node ids are checked at the edge with a short quote.
 */
import { Client, credentials, Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { codeOf, startAgent, TestAgentClient } from '../helpers/agent-processes.js';
import { cleanup, startMaster } from '../helpers/processes.js';

afterEach(cleanup);

function rawCall(address: string, method: string, body: Buffer): Promise<{ code: number; details: string }> {
  const raw = new Client(address, credentials.createInsecure());
  return new Promise<{ code: number; details: string }>((resolve) => {
    raw.makeUnaryRequest(`/sutra.grid.v1.GridAgent/${method}`, (b: Buffer) => b, (b: Buffer) => b, body, new Metadata(), { deadline: new Date(Date.now() + 10_000) }, (err) =>
      resolve(err ? { code: err.code, details: err.details } : { code: GrpcStatus.OK, details: '' }),
    );
  }).finally(() => raw.close());
}

describe('agent wire edge', () => {
  it('a SpawnNode body starting with 0x00 is INVALID_ARGUMENT and starts no node; a 1 MB node id is quoted short', async () => {
    const master = await startMaster();
    const agent = await startAgent({ master: master.address });
    const c = new TestAgentClient(agent.address);
    try {
      const res = await rawCall(agent.address, 'SpawnNode', Buffer.from([0x00]));
      expect(res.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(res.details).toMatch(/malformed request body .*SpawnNode.*field number 0/);
      expect(await c.list()).toEqual([]);

      const long = await codeOf(c.status('z'.repeat(1024 * 1024)));
      expect(long.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(long.details).toMatch(/^node_id: must be .*\(1,048,576 characters\)$/);
      expect((await codeOf(c.status(''))).details).toBe('node_id: is required');
    } finally {
      c.close();
    }
  });
});
