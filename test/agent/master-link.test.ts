/**
 * MasterLink against a tiny in-process fake master that records calls and scripts failures:
 * re-registration on NOT_FOUND, reconnection when the master appears late, node events tolerated
 * when the master does not take them, and UnregisterAgent on stop.
 */
import { createServer } from 'node:net';
import { Server, ServerCredentials, status as GrpcStatus, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { GridMasterService } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { MasterLink } from '../../runtime/agent/master-link.js';
import type { AgentDescriptor, NodeView } from '../../runtime/common/grid-types.js';
import { silentLogger } from '../../runtime/common/logger.js';
import { eventually } from '../helpers/processes.js';

interface Calls {
  register: Array<{ nodes: number }>;
  heartbeat: number;
  /** Heartbeats that came on a HeartbeatStream (also counted in `heartbeat`). */
  streamed: number;
  events: number;
  unregister: string[];
}

const stoppers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(stoppers.splice(0).map((s) => s()));
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/** A fake master on `port`: `script.heartbeat` may return a status code to fail with. */
async function fakeMaster(
  port: number,
  script: { heartbeat?: () => number | undefined; events?: number; noStream?: boolean } = {},
): Promise<{ calls: Calls; stop: () => Promise<void> }> {
  const calls: Calls = { register: [], heartbeat: 0, events: 0, unregister: [], streamed: 0 };
  const fail = (cb: (e: unknown) => void, code: number): void => cb({ code, details: `scripted ${code}` });
  const impl: Record<string, unknown> = {};
  for (const name of Object.keys(GridMasterService)) impl[name] = (_call: unknown, cb: (e: unknown) => void) => fail(cb, GrpcStatus.UNIMPLEMENTED);
  impl['registerAgent'] = (call: { request: { nodes: unknown[] } }, cb: (e: unknown, r?: unknown) => void) => {
    calls.register.push({ nodes: call.request.nodes.length });
    cb(null, { heartbeatIntervalMs: 50, masterId: 'fake', revokedNodeSerials: [] });
  };
  impl['heartbeat'] = (_call: unknown, cb: (e: unknown, r?: unknown) => void) => {
    calls.heartbeat++;
    const code = script.heartbeat?.();
    if (code !== undefined) fail(cb, code);
    else cb(null, { heartbeatIntervalMs: 50, revokedNodeSerials: [] });
  };
  // HeartbeatStream answers each beat in order; `noStream` plays an older master without it.
  impl['heartbeatStream'] = (call: { on: (ev: string, f: (x?: unknown) => void) => void; write: (r: unknown) => void; emit: (ev: string, e: unknown) => void; end: () => void }) => {
    if (script.noStream === true) {
      call.emit('error', { code: GrpcStatus.UNIMPLEMENTED, details: 'scripted UNIMPLEMENTED' });
      return;
    }
    call.on('data', () => {
      calls.heartbeat++;
      calls.streamed++;
      const code = script.heartbeat?.();
      if (code !== undefined) call.emit('error', { code, details: `scripted ${code}` });
      else call.write({ heartbeatIntervalMs: 50, revokedNodeSerials: [] });
    });
    call.on('end', () => call.end());
  };
  impl['reportNodeEvents'] = (_call: unknown, cb: (e: unknown, r?: unknown) => void) => {
    calls.events++;
    if (script.events !== undefined) fail(cb, script.events);
    else cb(null, {});
  };
  impl['unregisterAgent'] = (call: { request: { agentId: string } }, cb: (e: unknown, r?: unknown) => void) => {
    calls.unregister.push(call.request.agentId);
    cb(null, {});
  };
  const server = new Server();
  server.addService(GridMasterService, impl as UntypedServiceImplementation);
  await new Promise<void>((res, rej) => server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
  const stop = (): Promise<void> => new Promise((r) => server.tryShutdown(() => r()));
  stoppers.push(stop);
  return { calls, stop: () => (server.forceShutdown(), Promise.resolve()) };
}

const INFO: AgentDescriptor = {
  agentId: 'link-test',
  hostname: 'h',
  platform: 'process',
  address: '127.0.0.1:1',
  capacity: { maxNodes: 1, memoryMb: 0 },
  version: 'test',
  labels: {},
  portRangeStart: 20000,
  portRangeSize: 10,
};

const NODE = { nodeId: 'n1', agentId: 'link-test', port: 20000, pid: 4242, status: 'running' } as unknown as NodeView;

function link(port: number): MasterLink {
  const l = new MasterLink({
    masterEndpoint: `127.0.0.1:${port}`,
    token: undefined,
    info: INFO,
    heartbeatIntervalMs: 50,
    reconnectInitialMs: 20,
    reconnectMaxMs: 100,
    nodes: () => [{ ...NODE, storagePath: '', memoryMb: 0, restarts: 0, startedAtMs: 0, cluster: '', role: '', lastExit: '', containerId: '', generation: 0 }],
    logger: silentLogger,
  });
  stoppers.push(() => l.stop(false));
  return l;
}

describe('master link', () => {
  it('registers with its nodes, heartbeats, and re-registers when the master answers NOT_FOUND', async () => {
    const port = await freePort();
    let forget = false;
    const m = await fakeMaster(port, { heartbeat: () => (forget ? ((forget = false), GrpcStatus.NOT_FOUND) : undefined) });
    const l = link(port);
    l.start();
    await eventually(() => m.calls.heartbeat >= 2, 5000, 10);
    expect(m.calls.register).toEqual([{ nodes: 1 }]);
    forget = true;
    // The fake counts the registration before its answer reaches the link: wait for both.
    await eventually(() => m.calls.register.length === 2 && l.state === 'registered', 5000, 10);
    expect(m.calls.register).toHaveLength(2);
    await l.stop(true);
    expect(m.calls.unregister).toEqual(['link-test']);
    // Beats travel on the long-lived stream, not as one call each.
    expect(m.calls.streamed).toBe(m.calls.heartbeat);
  });

  it('falls back to unary heartbeats when the master has no HeartbeatStream (UNIMPLEMENTED)', async () => {
    const port = await freePort();
    const m = await fakeMaster(port, { noStream: true });
    const l = link(port);
    l.start();
    await eventually(() => m.calls.heartbeat >= 3, 5000, 10);
    expect(m.calls.streamed).toBe(0);
    expect(m.calls.register).toHaveLength(1);
    expect(l.state).toBe('registered');
    await l.stop(true);
  });

  it('keeps retrying while the master is away and registers once it appears', async () => {
    const port = await freePort();
    const l = link(port);
    l.start();
    await eventually(() => l.state === 'disconnected', 5000, 10);
    const m = await fakeMaster(port);
    await eventually(() => m.calls.register.length === 1 && l.state === 'registered', 10_000, 10);
    // and again after the master goes away and comes back
    await m.stop();
    await eventually(() => l.state === 'disconnected', 5000, 10);
    const again = await fakeMaster(port);
    await eventually(() => again.calls.register.length === 1, 10_000, 10);
    expect(again.calls.register[0]).toEqual({ nodes: 1 });
  });

  it('drops node events quietly when the master does not take them (UNIMPLEMENTED), without blocking', async () => {
    const port = await freePort();
    const m = await fakeMaster(port, { events: GrpcStatus.UNIMPLEMENTED });
    const l = link(port);
    l.start();
    await eventually(() => l.state === 'registered', 5000, 10);
    const event = { type: 'NodeCrashed', severity: 'error', nodeId: 'n1', cluster: '', timestampUs: Date.now() * 1000, payload: { exitCode: 1 }, message: 'x' } as const;
    l.reportEvent(event);
    await eventually(() => m.calls.events === 1, 5000, 10);
    l.reportEvent(event);
    await eventually(() => m.calls.events === 2, 5000, 10);
    expect(l.state).toBe('registered');
  });
});
