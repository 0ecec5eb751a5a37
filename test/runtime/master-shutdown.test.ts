/**
 * A master with connected agents stops at once on SIGTERM: it ends their heartbeat streams (which
 * never end on their own) telling them why, exits 0, and the agents register again when it returns.
 */
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { HeartbeatStream } from '../../runtime/agent/heartbeat-stream.js';
import { heartbeatCall } from '../../runtime/agent/master-connection.js';
import { TestMasterClient, fakeAgent } from '../helpers/grid-client.js';
import { cleanup, eventually, startAgent, startMaster, tempDir, type DaemonProcess } from '../helpers/processes.js';

afterEach(cleanup);

const BEAT = ['--heartbeat-interval', '200ms'];

/** Waits until every agent has heartbeated after registering, i.e. its stream is open and in use. */
async function streaming(address: string, ids: readonly string[]): Promise<void> {
  const c = new TestMasterClient(address);
  try {
    await eventually(async () => {
      const { agents } = await c.listAgents();
      return ids.every((id) => agents.some((a) => a.info?.agentId === id && a.lastHeartbeatMs > a.registeredAtMs));
    }, 20_000);
  } finally {
    c.close();
  }
}

/** SIGTERM, and how long the process took to exit. */
async function terminate(d: DaemonProcess): Promise<{ code: number | null; ms: number }> {
  const t0 = performance.now();
  d.proc.kill('SIGTERM');
  const { code } = await d.exited;
  return { code, ms: performance.now() - t0 };
}

describe('master shutdown with connected agents', () => {
  it('one agent: exits 0 in well under a second, the agent sees it go and re-registers when it returns', async () => {
    const dataDir = tempDir('master-');
    const master = await startMaster({ dataDir, args: BEAT });
    const agent = await startAgent({ id: 'sd-1', master: master.address, args: BEAT });
    await streaming(master.address, ['sd-1']);

    const { code, ms } = await terminate(master);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(1000);
    expect(master.logs()).toContain('master stopped');
    expect(master.logs()).not.toContain('SHUTDOWN_TIMEOUT');
    // The agent is told why, right away (not at its next beat, not by a dropped connection).
    await agent.waitForLog(/lost the master \(master is shutting down/, 5000);

    const again = await startMaster({ dataDir, listen: master.address, args: BEAT });
    await agent.waitForLog(/master is back: re-registered/, 20_000);
    await streaming(again.address, ['sd-1']);
  });

  it('several agents: exits 0 in well under a second and every agent re-registers when it returns', async () => {
    const dataDir = tempDir('master-');
    const master = await startMaster({ dataDir, args: BEAT });
    const ids = ['sd-a', 'sd-b', 'sd-c'];
    const agents = await Promise.all(ids.map((id) => startAgent({ id, master: master.address, args: BEAT })));
    await streaming(master.address, ids);

    const { code, ms } = await terminate(master);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(1000);
    for (const a of agents) await a.waitForLog(/lost the master \(master is shutting down/, 5000);

    const again = await startMaster({ dataDir, listen: master.address, args: BEAT });
    for (const a of agents) await a.waitForLog(/master is back: re-registered/, 20_000);
    await streaming(again.address, ids);
  });

  it('ends an open HeartbeatStream with UNAVAILABLE saying the master is shutting down', async () => {
    const master = await startMaster();
    const c = new TestMasterClient(master.address);
    try {
      await c.register(fakeAgent('sd-raw'));
      let broken: ServiceError | undefined;
      const stream = new HeartbeatStream(heartbeatCall(c.raw, undefined), (err) => (broken = err));
      await stream.send({ agentId: 'sd-raw', nodes: [] }, 5000);

      const { code, ms } = await terminate(master);
      expect(code).toBe(0);
      expect(ms).toBeLessThan(1000);
      const err = await eventually(() => broken, 5000, 10);
      expect(err.code).toBe(GrpcStatus.UNAVAILABLE);
      expect(err.details).toContain('master is shutting down');
      stream.close();
    } finally {
      c.close();
    }
  });
});
