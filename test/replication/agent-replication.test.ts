/**
 * The agent's part of replication, through its GridAgent API with real storage-servers: spawn
 * fields checked before anything runs and passed as flags, the node's replication reported, a
 * ConfigureNode relayed to SetRole and kept for the agent's own restarts, and a hung node that
 * delays no answer of the agent.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { TestAgentClient, codeOf, startAgent } from '../helpers/agent-processes.js';
import { TestMasterClient } from '../helpers/grid-client.js';
import { portBlock } from '../helpers/ports.js';
import { cleanup, eventually, REPO_ROOT, startMaster, tempDir, trackPid } from '../helpers/processes.js';
import { STORAGE_BUNDLE_ENTRY } from '../../runtime/storage/bundle-files.js';
import { addressOf, missingOn, storageClients, writeConcepts } from './support.js';

afterEach(cleanup);
const client = storageClients();

function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\u0000').slice(0, -1);
}

describe('agent: leader and replica nodes', () => {
  it('refuses bad replication fields naming each, starting nothing', async () => {
    const master = await startMaster({ args: ['--heartbeat-interval', '200ms'] });
    const agent = await startAgent({ master: master.address });
    const c = new TestAgentClient(agent.address);
    try {
      const cases: Array<[Parameters<TestAgentClient['spawn']>[0], string]> = [
        [{ role: 'replica', leaderAddress: 'nohost' }, 'leader_address'],
        [{ role: 'replica', leaderAddress: '127.0.0.1:0' }, 'leader_address'],
        [{ role: 'replica', leaderAddress: `h:${'9'.repeat(300)}` }, 'leader_address'],
        [{ role: 'leader', leaderAddress: '127.0.0.1:5000' }, 'leader_address'],
        [{ role: 'leader', durability: 'eventual' }, 'durability'],
        [{ role: 'leader', durability: 'sync', syncQuorum: 5000 }, 'sync_quorum'],
        [{ role: 'leader', durability: 'sync', syncTimeoutMs: 5 }, 'sync_timeout_ms'],
        [{ role: 'leader', grid: 'a b' }, 'grid'],
        [{ role: 'leader', cluster: '-kg' }, 'cluster'],
        [{ role: '', term: 3 }, 'role'],
        [{ role: 'standalone', durability: 'sync' }, 'role'],
        [{ role: 'x'.repeat(100) }, 'role'],
      ];
      for (const [req, field] of cases) {
        const res = await codeOf(c.spawn({ nodeId: 'kg-0', ...req }));
        expect(res.code, JSON.stringify(req)).toBe(GrpcStatus.INVALID_ARGUMENT);
        expect(res.details, JSON.stringify(req)).toMatch(new RegExp(`^${field}:`));
      }
      // A term past 2^53 is refused before the handler (the decoder cannot hold it exactly).
      expect((await codeOf(c.spawn({ nodeId: 'kg-0', role: 'leader', term: Number.MAX_SAFE_INTEGER + 2 }))).code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(await c.list()).toEqual([]);
    } finally {
      c.close();
    }
  });

  it('starts a leader and a leaderless replica with their flags, points the replica by ConfigureNode, and restarts it with the latest values', async () => {
    const master = await startMaster({ args: ['--heartbeat-interval', '200ms'] });
    const agent = await startAgent({ master: master.address });
    // A leader's write lease comes from the master's answers: the agent has had one.
    await agent.waitForLog(/registered with the master/);
    const c = new TestAgentClient(agent.address);
    try {
      // GIVEN a leader of term 3 and a replica spawned before its leader's address was known
      const base = { grid: 'g1', cluster: 'kg', term: 3, durability: 'sync', syncQuorum: 1, syncTimeoutMs: 2000 };
      const leader = await c.spawn({ nodeId: 'kg-0', role: 'leader', ...base });
      expect(cmdline(leader.pid)).toEqual(expect.arrayContaining(['--role', 'leader', '--node-id', 'kg-0', '--grid', 'g1', '--cluster', 'kg', '--term', '3', '--sync-timeout', '2000ms']));
      expect(leader.replication).toMatchObject({ role: 'leader', term: 3, durability: 'sync', syncQuorum: 1, catchingUp: false });
      const replica = await c.spawn({ nodeId: 'kg-1', role: 'replica', ...base });
      expect(cmdline(replica.pid)).not.toContain('--leader');
      expect(replica.replication).toMatchObject({ role: 'replica', term: 3, leader: '', catchingUp: true, connected: false });
      // ...a replica following nobody refuses writes
      expect((await codeOf(client(replica).learnConcept('a', 'b'))).code).toBe(GrpcStatus.FAILED_PRECONDITION);

      // WHEN it is told its leader
      const configured = await c.configure({ nodeId: 'kg-1', role: 'replica', leaderAddress: addressOf(leader), term: 3 });
      expect(configured.replication).toMatchObject({ role: 'replica', term: 3, leader: addressOf(leader), durability: 'sync' });
      // THEN it follows, catches up, and the leader's sync writes are acknowledged with it
      const written = await writeConcepts(client(leader), 'k', 100, 4);
      await eventually(async () => {
        const n = await c.status('kg-1');
        return n.replication?.catchingUp === false && n.replication.logPosition === 100 && n.replication.leaderLogPosition === 100;
      }, 20_000);
      expect(await missingOn(client(replica), written)).toEqual([]);

      // Refusals: a lower term (the node's own answer), no leader for a replica, a standalone node, an unknown node
      const stale = await codeOf(c.configure({ nodeId: 'kg-1', role: 'replica', leaderAddress: addressOf(leader), term: 2 }));
      expect(stale.code).toBe(GrpcStatus.FAILED_PRECONDITION);
      expect(stale.details).toContain('term');
      expect((await codeOf(c.configure({ nodeId: 'kg-1', role: 'replica', term: 3 }))).details).toMatch(/^leader_address:/);
      expect((await codeOf(c.configure({ nodeId: 'kg-1', role: 'standalone', term: 3 }))).details).toMatch(/^role:/);
      await c.spawn({ nodeId: 'solo' });
      expect((await codeOf(c.configure({ nodeId: 'solo', role: 'leader', term: 4 }))).code).toBe(GrpcStatus.FAILED_PRECONDITION);
      expect((await codeOf(c.configure({ nodeId: 'ghost', role: 'leader', term: 4 }))).code).toBe(GrpcStatus.NOT_FOUND);
      expect((await c.status('kg-1')).replication).toMatchObject({ role: 'replica', term: 3, leader: addressOf(leader) });

      // WHEN the replica's process dies, the agent restarts it with the values it was last given
      trackPid(replica.pid);
      process.kill(replica.pid, 'SIGKILL');
      const back = await eventually(async () => {
        const n = await c.status('kg-1');
        return n.status === 'running' && n.pid !== replica.pid && n.replication?.catchingUp === false ? n : undefined;
      }, 20_000);
      trackPid(back.pid);
      expect(cmdline(back.pid)).toEqual(expect.arrayContaining(['--role', 'replica', '--leader', addressOf(leader), '--term', '3']));
      expect(back.replication).toMatchObject({ role: 'replica', term: 3, leader: addressOf(leader), logPosition: 100 });
    } finally {
      c.close();
    }
  });

  it('a leader still starting when the master first answers the agent takes writes once it runs, not a heartbeat later', async () => {
    // GIVEN an agent whose master is not up yet, heartbeats 10 s apart, and a storage binary that
    // takes 9 s to start (a wrapper around the bundled one): the agent's registration retries,
    // 0.2 to 5 s apart, reach the master while the leader is still starting
    const masterPort = portBlock(1).start;
    const wrapper = join(tempDir('slow-binary-'), 'slow-storage-server.sh');
    writeFileSync(wrapper, `#!/bin/sh\nsleep 9\nexec ${process.execPath} ${join(REPO_ROOT, 'dist', 'runtime', 'bundle', STORAGE_BUNDLE_ENTRY)} "$@"\n`);
    chmodSync(wrapper, 0o755);
    const agent = await startAgent({ master: `127.0.0.1:${masterPort}`, config: { storage: { binary_path: wrapper }, monitoring: { heartbeat_interval_secs: 10 } } });
    const c = new TestAgentClient(agent.address);
    try {
      // WHEN a leader is spawned before the agent has heard from any master (its flag grants no
      // lease), and the master comes up while the leader is still starting
      const spawned = c.spawn({ nodeId: 'kg-0', role: 'leader', grid: 'g1', cluster: 'kg', term: 1 });
      await startMaster({ listen: `127.0.0.1:${masterPort}`, args: ['--heartbeat-interval', '10s', '--degraded-after', '30s', '--offline-after', '60s'] });
      // (its first registration failed: it says "master is back: re-registered")
      await agent.waitForLog(/re-registered/);
      expect((await c.status('kg-0')).status).toBe('starting');
      const leader = await spawned;
      const running = Date.now();
      // THEN it takes a write at once: its lease came when it ran, not with the next heartbeat's answer
      await eventually(async () => (await codeOf(client(leader).learnConcept('k1', 'v1'))).code === GrpcStatus.OK, 3_000);
      expect(Date.now() - running).toBeLessThan(3_000);
    } finally {
      c.close();
    }
  }, 60_000);

  it('a hung node delays neither the agent\'s answers nor its heartbeats', async () => {
    const master = await startMaster({ args: ['--heartbeat-interval', '200ms'] });
    // Liveness probes 5 s apart: the hung node is not killed (three failed probes) while the test looks at it.
    const agent = await startAgent({ master: master.address, config: { monitoring: { health_check_interval_secs: 5 } } });
    const c = new TestAgentClient(agent.address);
    const m = new TestMasterClient(master.address);
    const leader = await c.spawn({ nodeId: 'kg-0', role: 'leader', cluster: 'kg', term: 1 });
    trackPid(leader.pid);
    try {
      // WHEN the node stops answering (SIGSTOP: its socket accepts, nothing replies)
      process.kill(leader.pid, 'SIGSTOP');
      await new Promise((r) => setTimeout(r, 1500));
      // THEN the agent still answers at once, and a fresh status read gives up within its deadline
      let t0 = Date.now();
      expect((await c.list()).map((n) => n.nodeId)).toEqual(['kg-0']);
      expect(Date.now() - t0).toBeLessThan(3000);
      t0 = Date.now();
      const n = await c.status('kg-0');
      expect(Date.now() - t0).toBeLessThan(4000);
      expect(n.pid).toBe(leader.pid);
      expect(n.replication).toMatchObject({ role: 'leader', term: 1 });
      // ...and it kept beating: the master heard from it recently and holds it healthy
      const { agents } = await m.listAgents();
      expect(agents.find((a) => a.info?.agentId === agent.id)).toMatchObject({ health: 'healthy' });
      expect(Date.now() - agents.find((a) => a.info?.agentId === agent.id)!.lastHeartbeatMs).toBeLessThan(3000);
    } finally {
      try {
        process.kill(leader.pid, 'SIGCONT');
      } catch {
        // already gone
      }
      m.close();
      c.close();
    }
  });
});
