/**
 * The master alone, as a real process, with a raw gRPC client posing as agents.
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { TestMasterClient, fakeAgent, fakeNode } from '../helpers/grid-client.js';
import { HeartbeatStream } from '../../runtime/agent/heartbeat-stream.js';
import { heartbeatCall } from '../../runtime/agent/master-connection.js';
import { cleanup, eventually, runCli, startMaster, tempDir } from '../helpers/processes.js';

afterEach(cleanup);

/** Sub-second thresholds so the health ladder runs in about a second. */
const FAST = ['--heartbeat-interval', '100ms', '--degraded-after', '400ms', '--offline-after', '900ms', '--health-check-interval', '50ms'];

async function statusCode(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return GrpcStatus.OK;
  } catch (err) {
    return (err as ServiceError).code;
  }
}

describe('master: registration', () => {
  it('registers an agent with its nodes, and a re-registration updates it in place', async () => {
    const master = await startMaster();
    const c = new TestMasterClient(master.address);
    try {
      const first = await c.register(fakeAgent('agent-1'), [fakeNode('n1', 'agent-1', { pid: 111, port: 7101 })]);
      expect(first.heartbeatIntervalMs).toBe(5000);
      expect(first.masterId).toMatch(/^master-/);

      const { agents } = await c.listAgents();
      expect(agents.map((a) => [a.info?.agentId, a.health, a.nodes.length])).toEqual([['agent-1', 'healthy', 1]]);

      // WHEN the agent restarts and re-registers with a different node set
      await c.register(fakeAgent('agent-1', { address: '127.0.0.1:2' }), [fakeNode('n2', 'agent-1', { pid: 222 })]);
      // THEN it is one agent, with the new address and exactly the reported nodes
      const after = await c.listAgents();
      expect(after.agents).toHaveLength(1);
      expect(after.agents[0]?.info?.address).toBe('127.0.0.1:2');
      expect((await c.listNodes()).nodes.map((n) => [n.nodeId, n.pid])).toEqual([['n2', 222]]);
      expect(master.logs()).toContain('agent agent-1 re-registered');
    } finally {
      c.close();
    }
  });

  it('refuses a registration without an agent id, naming the field', async () => {
    const master = await startMaster();
    const c = new TestMasterClient(master.address);
    try {
      const err = (await c.register(fakeAgent('')).catch((e: unknown) => e)) as ServiceError;
      expect(err.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(err.details).toContain('agent.agent_id');
    } finally {
      c.close();
    }
  });

  it('answers a heartbeat from an unknown agent with NOT_FOUND so that it re-registers', async () => {
    const master = await startMaster();
    const c = new TestMasterClient(master.address);
    try {
      const err = (await c.heartbeat('ghost').catch((e: unknown) => e)) as ServiceError;
      expect(err.code).toBe(GrpcStatus.NOT_FOUND);
      expect(err.details).toContain('"ghost"');
    } finally {
      c.close();
    }
  });

  it('answers beats on a HeartbeatStream in order, and ends the stream with NOT_FOUND for an unknown agent', async () => {
    const master = await startMaster();
    const c = new TestMasterClient(master.address);
    try {
      await c.register(fakeAgent('agent-s'), []);
      const known = new HeartbeatStream(heartbeatCall(c.raw, undefined));
      const answers = await Promise.all([1, 2, 3].map(() => known.send({ agentId: 'agent-s', nodes: [] }, 5000)));
      expect(answers.map((a) => a.heartbeatIntervalMs)).toEqual([5000, 5000, 5000]);
      known.close();
      const ghost = new HeartbeatStream(heartbeatCall(c.raw, undefined));
      const err = (await ghost.send({ agentId: 'ghost', nodes: [] }, 5000).catch((e: unknown) => e)) as ServiceError;
      expect(err.code).toBe(GrpcStatus.NOT_FOUND);
      expect(err.details).toContain('"ghost"');
    } finally {
      c.close();
    }
  });

  it('creates its data dir 0700 and keeps the master id across restarts of it', async () => {
    const dataDir = join(tempDir('master-'), 'state');
    const m1 = await startMaster({ dataDir });
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const c1 = new TestMasterClient(m1.address);
    const id1 = (await c1.register(fakeAgent('a'))).masterId;
    c1.close();
    expect((await m1.stop()).code).toBe(0);
    const m2 = await startMaster({ dataDir });
    const c2 = new TestMasterClient(m2.address);
    try {
      expect((await c2.register(fakeAgent('a'))).masterId).toBe(id1);
    } finally {
      c2.close();
    }
  });
});

describe('master: grid-wide counts', () => {
  it('counts a replica still catching up as starting, not running, as its cluster and ListNodes do', async () => {
    const master = await startMaster();
    const c = new TestMasterClient(master.address);
    try {
      const replication = {
        role: 'replica', term: 1, leader: '127.0.0.1:1', durability: 'async', syncQuorum: 0, logPosition: 10, lastLogTerm: 1,
        leaderLogPosition: 500, catchingUp: true, connected: true, readAtMs: Date.now(), leaseUnconfirmed: false,
      };
      await c.register(fakeAgent('a'), [
        fakeNode('kg-0', 'a', { cluster: 'kg', role: 'leader', replication: { ...replication, role: 'leader', leader: '', leaderLogPosition: 0, catchingUp: false } }),
        fakeNode('kg-1', 'a', { cluster: 'kg', role: 'replica', replication }),
      ]);
      const status = await c.clusterStatus();
      expect([status.nodesTotal, status.nodesRunning]).toEqual([2, 1]);
      await c.heartbeat('a', [fakeNode('kg-0', 'a'), fakeNode('kg-1', 'a', { cluster: 'kg', role: 'replica', replication: { ...replication, catchingUp: false } })]);
      expect((await c.clusterStatus()).nodesRunning).toBe(2);
    } finally {
      c.close();
    }
  });
});

describe('master: agent health', () => {
  it('goes healthy -> degraded -> offline without heartbeats, and recovers on the next one', async () => {
    const master = await startMaster({ args: FAST });
    const c = new TestMasterClient(master.address);
    const healthOf = async (): Promise<string | undefined> => (await c.listAgents()).agents[0]?.health;
    try {
      await c.register(fakeAgent('agent-h'), [fakeNode('n1', 'agent-h')]);
      expect(await healthOf()).toBe('healthy');

      // Heartbeats keep it healthy past the degraded threshold.
      for (let i = 0; i < 6; i++) {
        await new Promise((r) => setTimeout(r, 100));
        await c.heartbeat('agent-h', [fakeNode('n1', 'agent-h')]);
      }
      expect(await healthOf()).toBe('healthy');

      await eventually(async () => (await healthOf()) === 'degraded', 3000, 20);
      const degraded = await c.clusterStatus();
      expect([degraded.agentsDegraded, degraded.health]).toEqual([1, 'critical']);
      await eventually(async () => (await healthOf()) === 'offline', 3000, 20);
      const offline = await c.clusterStatus();
      expect([offline.agentsOffline, offline.nodesRunning, offline.nodesTotal]).toEqual([1, 0, 1]);

      await c.heartbeat('agent-h', [fakeNode('n1', 'agent-h')]);
      expect(await healthOf()).toBe('healthy');
      expect((await c.clusterStatus()).health).toBe('healthy');

      const logs = master.logs();
      const order = ['agent agent-h degraded', 'agent agent-h offline', 'agent agent-h recovered'].map((l) => logs.indexOf(l));
      expect(order.every((i) => i >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
    } finally {
      c.close();
    }
  });

  it('refuses to spawn on a degraded agent (FAILED_PRECONDITION) and validates port and capacity first', async () => {
    const master = await startMaster({ args: FAST });
    const c = new TestMasterClient(master.address);
    try {
      await c.register(fakeAgent('small', { capacity: { maxNodes: 1, memoryMb: 0 } }), [fakeNode('n1', 'small')]);
      const port = (await c.spawn({ agentId: 'small', port: 80 }).catch((e: unknown) => e)) as ServiceError;
      expect([port.code, port.details]).toEqual([GrpcStatus.INVALID_ARGUMENT, expect.stringContaining('port')]);
      const full = (await c.spawn({ agentId: 'small' }).catch((e: unknown) => e)) as ServiceError;
      expect([full.code, full.details]).toEqual([GrpcStatus.RESOURCE_EXHAUSTED, expect.stringContaining('"small"')]);
      await eventually(async () => (await c.listAgents()).agents[0]?.health === 'degraded', 3000, 20);
      const sick = (await c.spawn({ agentId: 'small' }).catch((e: unknown) => e)) as ServiceError;
      expect([sick.code, sick.details]).toEqual([GrpcStatus.FAILED_PRECONDITION, expect.stringContaining('"small"')]);
    } finally {
      c.close();
    }
  });

  it('names the agent when it cannot be reached, and serves the cached node status marked stale', async () => {
    const master = await startMaster();
    const c = new TestMasterClient(master.address);
    try {
      // The fake agent's address has nothing listening.
      await c.register(fakeAgent('gone', { address: '127.0.0.1:1' }), [fakeNode('n9', 'gone', { pid: 99, port: 7109 })]);
      const err = (await c.spawn({ agentId: 'gone' }).catch((e: unknown) => e)) as ServiceError;
      expect(err.code).toBe(GrpcStatus.UNAVAILABLE);
      expect(err.details).toContain('agent "gone"');
      const cli = await runCli(['spawn', '--agent', 'gone', '--master', master.address]);
      expect([cli.code, cli.stderr]).toEqual([1, expect.stringMatching(/^error: agent "gone" at 127\.0\.0\.1:1 is unreachable: .*\(UNAVAILABLE\)\n$/)]);
      const status = await c.nodeStatus('n9');
      expect(status.stale).toBe(true);
      expect([status.node?.pid, status.node?.port]).toEqual([99, 7109]);
    } finally {
      c.close();
    }
  });
});

describe('master: token', () => {
  it('refuses calls without the token or with a wrong one, and accepts the right one', async () => {
    const dir = tempDir();
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 's3cret-token\n');
    const master = await startMaster({ args: ['--token-file', tokenFile] });
    const none = new TestMasterClient(master.address);
    const wrong = new TestMasterClient(master.address, 's3cret-tokeN');
    const right = new TestMasterClient(master.address, 's3cret-token');
    try {
      expect(await statusCode(none.listAgents())).toBe(GrpcStatus.UNAUTHENTICATED);
      expect(await statusCode(none.register(fakeAgent('x')))).toBe(GrpcStatus.UNAUTHENTICATED);
      expect(await statusCode(wrong.listAgents())).toBe(GrpcStatus.UNAUTHENTICATED);
      expect(await statusCode(right.register(fakeAgent('x')))).toBe(GrpcStatus.OK);
      expect((await right.listAgents()).agents).toHaveLength(1);

      // The CLI: token from the environment, and from --token-file.
      const ok = await runCli(['status', '--master', master.address, '--json'], { env: { SUTRA_GRID_TOKEN: 's3cret-token' } });
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout).agents.total).toBe(1);
      expect((await runCli(['list-agents', '--master', master.address, '--token-file', tokenFile])).code).toBe(0);
      const denied = await runCli(['status', '--master', master.address]);
      expect(denied.code).toBe(1);
      expect(denied.stderr.trim().split('\n')).toHaveLength(1);
      expect(denied.stderr).toMatch(/^error: .*token.*\(UNAUTHENTICATED\)\n$/);
    } finally {
      none.close();
      wrong.close();
      right.close();
    }
  });

  it('refuses to listen on 0.0.0.0 with neither a token nor TLS, saying so at start-up', async () => {
    const res = await runCli(['master', '--listen', '0.0.0.0:0', '--data-dir', tempDir(), '--tls', 'off']);
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain('refusing to listen on 0.0.0.0 without a token');
    expect(res.stderr).toContain('(INSECURE_BIND)');
  });
});

describe('master: CLI', () => {
  it('prints one clear error line and exits 1 for an unknown agent', async () => {
    const master = await startMaster();
    const res = await runCli(['spawn', '--agent', 'agent-9', '--master', master.address]);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toBe('error: agent "agent-9" not found (NOT_FOUND)\n');
  });

  it('names the flag of a bad value, and the address of an unreachable master', async () => {
    const bad = await runCli(['spawn', '--agent', 'a', '--port', 'eighty', '--master', '127.0.0.1:1']);
    expect([bad.code, bad.stderr]).toEqual([1, 'error: --port: must be a whole number, got "eighty" (CONFIG_INVALID)\n']);
    const down = await runCli(['status', '--master', '127.0.0.1:1']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^error: cannot reach the master at 127\.0\.0\.1:1: .*\(UNAVAILABLE\)\n$/);
    const duration = await runCli(['master', '--data-dir', tempDir(), '--listen', '127.0.0.1:0', '--degraded-after', 'soon']);
    expect([duration.code, duration.stderr]).toEqual([1, expect.stringMatching(/^error: --degraded-after: .*"soon".*\n$/)]);
  });

  it('prints the documented JSON shapes and aligned tables', async () => {
    const master = await startMaster();
    const c = new TestMasterClient(master.address);
    try {
      await c.register(fakeAgent('agent-a', { capacity: { maxNodes: 3, memoryMb: 0 } }), [
        fakeNode('n1', 'agent-a', { port: 7001, pid: 10 }),
        fakeNode('n2', 'agent-a', { port: 7002, pid: 0, status: 'failed', restarts: 3 }),
      ]);
      const m = ['--master', master.address];
      const agents = await runCli(['list-agents', ...m, '--json']);
      expect(JSON.parse(agents.stdout)).toEqual({
        agents: [{ id: 'agent-a', status: 'healthy', cordoned: false, cordonedBy: '', cordonReason: '', drain: '', drainDeadlineMs: 0, platform: 'process', maxNodes: 3, nodes: 2 }],
      });
      const status = await runCli(['--json', ...m, 'status']);
      expect(JSON.parse(status.stdout)).toEqual({
        agents: { total: 1, healthy: 1, degraded: 0, offline: 0 },
        nodes: { total: 2, running: 1, failed: 1 },
        health: 'degraded',
      });
      const table = await runCli(['list-nodes', ...m]);
      const lines = table.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^NODE\s+AGENT\s+STATUS\s+ROLE\s+TERM\s+POSITION\s+PORT/);
      // Columns line up: "STATUS" starts where each row's status starts.
      const col = lines[0]!.indexOf('STATUS');
      expect(lines.slice(1).map((l) => l.slice(col).split(/\s+/)[0])).toEqual(['running', 'failed']);
      const nodeStatus = await runCli(['node-status', 'n2', ...m, '--json']);
      // The fake agent is unreachable, so the answer is the cached value, flagged.
      expect(JSON.parse(nodeStatus.stdout)).toEqual({ nodeId: 'n2', agentId: 'agent-a', port: 7002, pid: 0, status: 'failed', restarts: 3, role: '', term: 0, logPosition: 0, stale: true });
    } finally {
      c.close();
    }
  });

  it('stops cleanly on SIGTERM with readable lifecycle lines', async () => {
    const master = await startMaster();
    const exit = await master.stop('SIGTERM');
    expect(exit.code).toBe(0);
    expect(master.logs()).toMatch(/master draining[\s\S]*master stopped/);
  });
});
