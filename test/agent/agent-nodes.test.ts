/**
 * The agent as a real process against a real master: spawning storage nodes, crash handling and
 * request checks, driven through the agent's GridAgent API.
 */
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { TestAgentClient, codeOf, healthCheck, startAgent } from '../helpers/agent-processes.js';
import { TestStorageClient } from '../helpers/storage-client.js';
import { TestMasterClient } from '../helpers/grid-client.js';
import { cleanup, eventually, isAlive, startMaster, tempDir, trackPid } from '../helpers/processes.js';

afterEach(cleanup);

const FAST_MASTER = ['--heartbeat-interval', '200ms'];

interface WireEvent {
  readonly type: string;
  readonly payloadJson: string;
}

/** The master's events about one node. */
function masterEvents(m: TestMasterClient, nodeId: string): Promise<WireEvent[]> {
  return new Promise((resolve, reject) =>
    m.raw.listEvents({ filter: { types: [], agentId: '', nodeId, cluster: '' }, sinceIndex: 0, sinceUs: 0, untilUs: 0, limit: 0 }, (e, r) =>
      e ? reject(e) : resolve(r.events),
    ),
  );
}

describe('agent: nodes', () => {
  it('spawns a node that is running, answers storage calls, and is reported to the master', async () => {
    const master = await startMaster({ args: FAST_MASTER });
    const agent = await startAgent({ master: master.address });
    const c = new TestAgentClient(agent.address);
    const m = new TestMasterClient(master.address);
    try {
      const node = await c.spawn({ nodeId: 'n1' });
      expect(node).toMatchObject({ nodeId: 'n1', agentId: agent.id, status: 'running', memoryMb: 64, restarts: 0 });
      expect(node.storagePath).toBe(join(agent.dataDir, 'nodes', 'n1'));
      expect(isAlive(node.pid)).toBe(true);
      // running means it answers: health and a real storage round trip
      expect((await healthCheck(`127.0.0.1:${node.port}`)).status).toBe('SERVING');
      const s = new TestStorageClient(`127.0.0.1:${node.port}`);
      await s.learnConcept('x', 'hello');
      expect((await s.queryConcept('x')).concept?.content).toBe('hello');
      s.close();

      // idempotent: the same id and spec returns the same node, no second process
      expect((await c.spawn({ nodeId: 'n1' })).pid).toBe(node.pid);
      expect(await c.list()).toHaveLength(1);
      const other = await codeOf(c.spawn({ nodeId: 'n1', memoryMb: 128 }));
      expect(other.code).toBe(GrpcStatus.ALREADY_EXISTS);

      // the master learns the node from the heartbeat
      await eventually(async () => (await m.listNodes()).nodes.some((n) => n.nodeId === 'n1' && n.pid === node.pid && n.status === 'running'));

      const stopped = await c.stop('n1');
      expect(stopped.status).toBe('stopped');
      await eventually(() => !isAlive(node.pid), 5000, 50);
      expect((await codeOf(c.status('n1'))).code).toBe(GrpcStatus.NOT_FOUND);
    } finally {
      c.close();
      m.close();
    }
  });

  it('restarts a node killed with SIGKILL, with a new pid, and counts the restart', async () => {
    const master = await startMaster({ args: FAST_MASTER });
    const agent = await startAgent({ master: master.address });
    const c = new TestAgentClient(agent.address);
    try {
      const node = await c.spawn({ nodeId: 'victim' });
      process.kill(node.pid, 'SIGKILL');
      const back = await eventually(async () => {
        const s = await c.status('victim');
        return s.status === 'running' && s.pid !== node.pid ? s : undefined;
      }, 20_000, 50);
      expect(back.restarts).toBe(1);
      expect(back.lastExit).toBe('signal SIGKILL');
      expect(back.port).toBe(node.port);
      expect((await healthCheck(`127.0.0.1:${back.port}`)).status).toBe('SERVING');
      expect(agent.logs()).toContain('"event":"NodeCrashed"');
      // the agent reported both to the master's event log
      const m = new TestMasterClient(master.address);
      try {
        const types = await eventually(async () => {
          const events = await masterEvents(m, 'victim');
          return events.some((e) => e.type === 'NodeRestarted') ? events : undefined;
        });
        expect(types.map((e) => e.type)).toEqual(expect.arrayContaining(['SpawnSucceeded', 'NodeCrashed', 'NodeRestarted']));
        expect(JSON.parse(types.find((e) => e.type === 'NodeCrashed')!.payloadJson)).toEqual({ signal: 'SIGKILL' });
        expect(JSON.parse(types.find((e) => e.type === 'NodeRestarted')!.payloadJson)).toEqual({ restartCount: 1, newPid: back.pid });
      } finally {
        m.close();
      }

      // A hung node (alive but not answering) fails its liveness checks and is replaced too.
      process.kill(back.pid, 'SIGSTOP');
      const revived = await eventually(async () => {
        const s = await c.status('victim');
        return s.status === 'running' && s.pid !== back.pid ? s : undefined;
      }, 30_000, 100);
      trackPid(revived.pid);
      expect(revived.lastExit).toMatch(/^unhealthy: 3 failed health checks/);
      expect(revived.restarts).toBe(2);
      expect(isAlive(back.pid)).toBe(false);
    } finally {
      c.close();
    }
  });

  it('marks a node that keeps crashing as failed after 3 restarts and reports it to the master', async () => {
    const master = await startMaster({ args: FAST_MASTER });
    const bin = tempDir('crashing-bin-');
    const script = join(bin, 'crash.sh');
    writeFileSync(script, '#!/bin/sh\necho "starting and crashing" >&2\nexit 1\n');
    chmodSync(script, 0o755);
    const agent = await startAgent({ master: master.address, config: { storage: { binary_path: script } } });
    const c = new TestAgentClient(agent.address);
    const m = new TestMasterClient(master.address);
    try {
      const res = await codeOf(c.spawn({ nodeId: 'loop' }));
      expect(res.code).toBe(GrpcStatus.INTERNAL);
      expect(res.details).toContain('"loop" failed to start: exit code 1');
      const s = await c.status('loop');
      expect([s.status, s.restarts, s.pid, s.lastExit]).toEqual(['failed', 3, 0, 'exit code 1']);
      expect(agent.logs().match(/"event":"NodeCrashed"/g)).toHaveLength(4);
      expect(agent.logs()).toContain('"event":"NodeFailed"');
      await eventually(async () => (await m.listNodes()).nodes.some((n) => n.nodeId === 'loop' && n.status === 'failed'));
      const events = await eventually(async () => {
        const ev = await masterEvents(m, 'loop');
        return ev.some((e) => e.type === 'NodeFailed') ? ev : undefined;
      });
      expect(events.filter((e) => e.type === 'NodeCrashed')).toHaveLength(4);
      expect(JSON.parse(events.find((e) => e.type === 'NodeFailed')!.payloadJson)).toMatchObject({ restartCount: 3 });
      // the failed node is removed by a stop
      expect((await c.stop('loop')).status).toBe('stopped');
      expect(await c.list()).toEqual([]);
    } finally {
      c.close();
      m.close();
    }
  });

  it('refuses bad spawn and stop requests with the right status and the field named, starting nothing', async () => {
    const master = await startMaster({ args: FAST_MASTER });
    const agent = await startAgent({ master: master.address, config: { agent: { max_storage_nodes: 1 } } });
    const c = new TestAgentClient(agent.address);
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const busyPort = (blocker.address() as { port: number }).port;
    try {
      const inUse = await codeOf(c.spawn({ nodeId: 'p1', port: busyPort }));
      expect(inUse).toEqual({ code: GrpcStatus.FAILED_PRECONDITION, details: `port ${busyPort} is in use` });

      const range = await codeOf(c.spawn({ nodeId: 'p2', port: 80 }));
      expect(range.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(range.details).toContain('port 80 is out of range');

      const outside = await codeOf(c.spawn({ nodeId: 'p3', storagePath: '/etc/evil' }));
      expect(outside.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(outside.details).toContain('storage_path "/etc/evil" is outside the data dir');
      expect((await codeOf(c.spawn({ nodeId: 'p4', storagePath: '../../escape' }))).code).toBe(GrpcStatus.INVALID_ARGUMENT);
      // a symlink inside the data dir that points out of it is refused too
      mkdirSync(agent.dataDir, { recursive: true });
      symlinkSync(tempDir('elsewhere-'), join(agent.dataDir, 'link'));
      expect((await codeOf(c.spawn({ nodeId: 'p5', storagePath: 'link/node' }))).code).toBe(GrpcStatus.INVALID_ARGUMENT);

      expect((await codeOf(c.spawn({ nodeId: 'bad id!' }))).code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(await c.list()).toEqual([]);

      await c.spawn({ nodeId: 'only' });
      const full = await codeOf(c.spawn({ nodeId: 'second' }));
      expect(full.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
      expect(full.details).toContain('at capacity: 1 of 1 nodes');

      const unknown = await codeOf(c.stop('ghost'));
      expect(unknown.code).toBe(GrpcStatus.NOT_FOUND);
      expect(unknown.details).toContain('"ghost"');
      expect((await c.list()).map((n) => n.nodeId)).toEqual(['only']);
    } finally {
      blocker.close();
      c.close();
    }
  });

  it('with a token, refuses calls without it or with a wrong one (UNAUTHENTICATED)', async () => {
    const env = { SUTRA_GRID_TOKEN: 'agent-test-token' };
    const master = await startMaster({ args: FAST_MASTER, env });
    const agent = await startAgent({ master: master.address, env });
    const none = new TestAgentClient(agent.address);
    const wrong = new TestAgentClient(agent.address, 'not-the-token');
    const right = new TestAgentClient(agent.address, 'agent-test-token');
    const m = new TestMasterClient(master.address, 'agent-test-token');
    try {
      expect((await codeOf(none.list())).code).toBe(GrpcStatus.UNAUTHENTICATED);
      expect((await codeOf(wrong.spawn({ nodeId: 'x' }))).code).toBe(GrpcStatus.UNAUTHENTICATED);
      expect(await right.list()).toEqual([]);
      // and it registered with the master using the token
      await eventually(async () => (await m.listAgents()).agents.some((a) => a.info?.agentId === agent.id));
    } finally {
      for (const x of [none, wrong, right]) x.close();
      m.close();
    }
  });
});
