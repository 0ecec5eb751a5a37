/**
 * The reconciler heals the grid with real processes: a node failing past its restarts, an agent
 * killed and later restarted, a lost leader.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { eventually, isAlive, trackPid } from '../helpers/processes.js';
import { DeclarativeGrid, duplicates, gridSpec } from './support/declarative-grid.js';

let grid: DeclarativeGrid | undefined;

afterEach(async () => {
  const leaked = (await grid?.teardown()) ?? [];
  grid = undefined;
  expect(leaked).toEqual([]);
});

const active = (nodes: readonly NodeInfo[]): NodeInfo[] => nodes.filter((n) => n.status !== 'stopped' && n.status !== 'failed');

describe('declarative self-healing with real processes', () => {
  it('replaces a node that failed past its restarts on another agent', async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    await Promise.all(['a1', 'a2'].map((id) => grid!.agent(id)));
    // The spec's policy: one restart allowed within a minute, so the second crash exhausts it.
    const restart = { maxRestarts: 1, window: '60s', backoff: '50ms' };
    const file = grid.writeSpec(gridSpec([{ id: 'a1' }, { id: 'a2' }], [{ name: 'kv', nodes: 1 }], { restart }));
    await grid.apply(file);
    const [first] = await grid.nodes();
    expect(first).toMatchObject({ nodeId: 'kv-0', status: 'running' });
    const home = first!.agentId;
    // The policy reaches the agents with their next heartbeat after the apply.
    await grid.agentProcess(home).waitForLog(/applying the grid's policy \(generation 1\): heartbeat 200ms, restarts 1 in 1m, backoff 50ms/, 10_000);

    // WHEN the node crashes, is restarted, and crashes again
    process.kill(first!.pid, 'SIGKILL');
    const restarted = await eventually(async () => (await grid!.nodes()).find((n) => n.agentId === home && n.status === 'running' && n.pid !== first!.pid), 15_000);
    trackPid(restarted.pid);
    process.kill(restarted.pid, 'SIGKILL');

    // THEN the master replaces it on the other agent: one running copy, elsewhere
    const replaced = await eventually(async () => {
      const ns = active(await grid!.nodes());
      return ns.length === 1 && ns[0]!.agentId !== home && ns[0]!.status === 'running' ? ns[0] : undefined;
    }, 20_000);
    expect(replaced.nodeId).toBe('kv-0');
    const events = await grid.recordedEvents('NodeReplaced');
    expect(events).toContainEqual(expect.objectContaining({ nodeId: 'kv-0', agentId: replaced.agentId }));
    expect(String(events[0]!.payload['reason'])).toMatch(new RegExp(`failed after \\d+ restarts on ${home}`));
    // AND the grid has settled: nothing more to do
    const plan = await eventually(async () => {
      const p = await grid!.cli('plan', file);
      return p.code === 0 ? p : undefined;
    }, 10_000).catch(async () => grid!.cli('plan', file));
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(grid.nodePids(home)).toEqual([]);
  });

  it('places a node whose binary crashes on every start on another agent', async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    // a1 runs a storage binary that dies 0.3 s after each start; a2 the real one.
    const crashing = join(grid.dir('bin'), 'crashing-storage-server.sh');
    writeFileSync(crashing, '#!/bin/sh\nsleep 0.3\nexit 3\n');
    chmodSync(crashing, 0o755);
    // The same limits in a1's config and in the spec: the node may crash before or after the
    // spec's policy reaches a1 (its next heartbeat), and fails past them either way.
    await grid.agent('a1', { binaryPath: crashing, monitoring: { restart_max: 2, restart_window_secs: 60, restart_backoff_ms: 50 } });
    await grid.agent('a2');
    const restart = { maxRestarts: 2, window: '60s', backoff: '50ms' };
    const file = grid.writeSpec(gridSpec([{ id: 'a1' }, { id: 'a2' }], [{ name: 'kv', nodes: 1, placement: 'binpack' }], { restart }));

    // WHEN applied: the scheduler first picks a1, where the node fails past its restarts
    const res = await grid.apply(file);
    expect(res.stdout).toMatch(/\+ create kv-0 on a1/);
    const failed = await grid.events('SpawnFailed');
    expect(failed.map((e) => `${e.nodeId}@${e.agentId}`)).toContain('kv-0@a1');
    expect(String(failed[0]!.payload['reason'])).toMatch(/failed to start: exit code 3/);

    // THEN it runs on a2, the failed copy on a1 is gone, and nothing is left to do
    const nodes = await grid.nodes();
    expect(nodes.map((n) => `${n.nodeId}@${n.agentId} ${n.status}`)).toEqual(['kv-0@a2 running']);
    const plan = await grid.cli('plan', file);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
  });

  it('replaces the nodes of a killed agent after replaceAfter; the restarted agent keeps no duplicate', async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    const ids = ['a1', 'a2', 'a3'];
    await Promise.all(ids.map((id) => grid!.agent(id)));
    const spec = gridSpec(ids.map((id) => ({ id })), [{ name: 'kv', nodes: 2 }], { replaceAfter: '1s' });
    await grid.apply(grid.writeSpec(spec));
    const before = await grid.nodes();
    expect(before.map((n) => n.nodeId).sort()).toEqual(['kv-0', 'kv-1']);
    const victim = before.find((n) => n.nodeId === 'kv-0')!;
    const survivor = before.find((n) => n.nodeId === 'kv-1')!;

    // WHEN the agent of kv-0 is killed hard (its node keeps running as an orphan)
    await grid.agentProcess(victim.agentId).stop('SIGKILL');
    expect(isAlive(victim.pid)).toBe(true);

    // THEN it goes degraded, then offline, and after the grace kv-0 runs on another agent
    const replacement = await eventually(async () => {
      const ns = active(await grid!.nodes());
      return ns.find((n) => n.nodeId === 'kv-0' && n.agentId !== victim.agentId && n.status === 'running');
    }, 20_000);
    const degraded = await grid.events('AgentDegraded');
    const offline = await grid.events('AgentOffline');
    expect(degraded.map((e) => e.agentId)).toContain(victim.agentId);
    expect(offline.map((e) => e.agentId)).toContain(victim.agentId);
    expect((await grid.recordedEvents('NodeReplaced')).map((e) => e.nodeId)).toEqual(['kv-0']);
    expect(isAlive(victim.pid)).toBe(true);

    // WHEN the killed agent returns with the same id and data dir, re-adopting its orphan
    await grid.agent(victim.agentId);

    // THEN exactly one copy of each node remains: the stale orphan is stopped, the replacement kept
    await eventually(() => !isAlive(victim.pid), 20_000);
    const final = await eventually(async () => {
      const ns = active(await grid!.nodes());
      return ns.length === 2 && duplicates(ns).length === 0 ? ns : undefined;
    }, 10_000);
    expect(final.find((n) => n.nodeId === 'kv-0')).toMatchObject({ agentId: replacement.agentId, pid: replacement.pid, status: 'running' });
    expect(final.find((n) => n.nodeId === 'kv-1')).toMatchObject({ agentId: survivor.agentId, pid: survivor.pid, status: 'running' });
    expect(isAlive(replacement.pid)).toBe(true);
    // No needless kill: kv-0 was replaced once, and only the stale copy was stopped.
    expect((await grid.events('NodeReplaced')).map((e) => e.nodeId)).toEqual(['kv-0']);
    const stops = await grid.events('StopRequested');
    expect(stops.map((e) => `${e.nodeId}@${e.agentId}`)).not.toContain(`kv-0@${replacement.agentId}`);
    expect(stops.map((e) => `${e.nodeId}@${e.agentId}`)).not.toContain(`kv-1@${survivor.agentId}`);
  });

  it('an agent back within replaceAfter keeps its nodes: nothing is replaced or restarted', async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    const ids = ['a1', 'a2'];
    await Promise.all(ids.map((id) => grid!.agent(id)));
    await grid.apply(grid.writeSpec(gridSpec(ids.map((id) => ({ id })), [{ name: 'kv', nodes: 2 }], { replaceAfter: '30s' })));
    const before = await grid.nodes();
    const victim = before.find((n) => n.nodeId === 'kv-0')!;

    // WHEN its agent is killed, goes offline, and returns well within the grace
    await grid.agentProcess(victim.agentId).stop('SIGKILL');
    await eventually(async () => (await grid!.events('AgentOffline')).some((e) => e.agentId === victim.agentId), 10_000);
    await grid.agent(victim.agentId);

    // THEN the re-adopted node is the one that counts: same agent, same pid, no replacement
    const after = await eventually(async () => {
      const ns = active(await grid!.nodes());
      return ns.length === 2 && ns.every((n) => n.status === 'running') && (await grid!.client.listAgents()).agents.every((a) => a.health === 'healthy') ? ns : undefined;
    }, 15_000);
    expect(after.map((n) => `${n.nodeId}@${n.agentId}:${n.pid}`).sort()).toEqual(before.map((n) => `${n.nodeId}@${n.agentId}:${n.pid}`).sort());
    expect(await grid.events('NodeReplaced')).toEqual([]);
    expect(await grid.events('SpawnRequested')).toHaveLength(2);
  });

  it('keeps the replacement, not the returning stale copy, also when the master restarted in between', async () => {
    grid = new DeclarativeGrid();
    const master = await grid.startMaster();
    const ids = ['a1', 'a2'];
    await Promise.all(ids.map((id) => grid!.agent(id)));
    await grid.apply(grid.writeSpec(gridSpec(ids.map((id) => ({ id })), [{ name: 'kv', nodes: 1 }], { replaceAfter: '1s' })));
    const [victim] = await grid.nodes();
    await grid.agentProcess(victim!.agentId).stop('SIGKILL');
    const replacement = await eventually(async () => active(await grid!.nodes()).find((n) => n.agentId !== victim!.agentId && n.status === 'running'), 20_000);

    // WHEN the master restarts (forgetting where it placed what), then the killed agent returns
    await master.stop('SIGKILL');
    await grid.startMaster(master.address);
    await eventually(async () => (await grid!.nodes()).some((n) => n.pid === replacement.pid), 15_000);
    await grid.agent(victim!.agentId);

    // THEN the re-adopted orphan is the stale copy: it is stopped and the replacement kept
    await eventually(() => !isAlive(victim!.pid), 20_000);
    const final = active(await grid.nodes());
    expect(final.map((n) => `${n.nodeId}@${n.agentId}:${n.pid}`)).toEqual([`kv-0@${replacement.agentId}:${replacement.pid}`]);
    expect(isAlive(replacement.pid)).toBe(true);
  });

  it('promotes a replica when the leader is lost; the lost node comes back as a replica', async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    const ids = ['a1', 'a2', 'a3', 'a4'];
    await Promise.all(ids.map((id) => grid!.agent(id)));
    const spec = gridSpec(ids.map((id) => ({ id })), [{ name: 'kg', nodes: 3, topology: 'leader-replicas' }], { replaceAfter: '1s' });
    await grid.apply(grid.writeSpec(spec));
    const before = await grid.nodes();
    const leader = before.find((n) => n.role === 'leader');
    expect(leader, JSON.stringify(before)).toBeDefined();
    expect(before.filter((n) => n.role === 'replica')).toHaveLength(2);
    expect((await grid.client.clusterStatus()).clusters[0]).toMatchObject({ name: 'kg', leaderNodeId: leader!.nodeId });

    // WHEN the leader's agent dies
    trackPid(leader!.pid);
    await grid.agentProcess(leader!.agentId).stop('SIGKILL');

    // THEN a replica is promoted and the lost node is recreated elsewhere as a replica
    const after = await eventually(async () => {
      const ns = active(await grid!.nodes()).filter((n) => n.agentId !== leader!.agentId);
      const newLeader = ns.find((n) => n.role === 'leader' && n.status === 'running');
      const back = ns.find((n) => n.nodeId === leader!.nodeId && n.status === 'running');
      return ns.length === 3 && newLeader && back ? { newLeader, back } : undefined;
    }, 25_000);
    expect(after.newLeader.nodeId).not.toBe(leader!.nodeId);
    expect(after.back.role).toBe('replica');
    const changes = await grid.events('LeaderChanged');
    expect(changes.map((e) => e.nodeId)).toContain(after.newLeader.nodeId);
    // The replacement counts as running once it holds the new leader's data.
    await eventually(async () => (await grid!.client.clusterStatus()).clusters[0]?.running === 3, 20_000);
    expect((await grid.client.clusterStatus()).clusters[0]).toMatchObject({ name: 'kg', leaderNodeId: after.newLeader.nodeId, running: 3, desired: 3 });
    expect((await grid.client.getSpec()).generation).toBe(1);

    // WHEN the old leader's agent returns with its orphan (which still claims to lead)
    await grid.agent(leader!.agentId);
    // THEN the stale copy is stopped and the promoted leader keeps leading
    await eventually(() => !isAlive(leader!.pid), 20_000);
    const final = active(await grid.nodes());
    expect(duplicates(final)).toEqual([]);
    expect(final.filter((n) => n.role === 'leader').map((n) => n.nodeId)).toEqual([after.newLeader.nodeId]);
    expect(final.find((n) => n.nodeId === after.newLeader.nodeId)?.pid).toBe(after.newLeader.pid);
  });
});
