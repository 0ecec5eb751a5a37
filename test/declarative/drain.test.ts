/**
 * Drain with real processes: `sutra-grid drain` moves a leader-replicas cluster's leader and
 * replica off an agent (the replica first, then the leader hands over to it and moves as a
 * replica), every written concept is on the new copies, the agent ends with no node and takes
 * none of a scale-up, and `uncordon` makes it eligible again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, runCli, type CliResult } from '../helpers/processes.js';
import { DeclarativeGrid, duplicates, gridSpec, type GridEvent } from './support/declarative-grid.js';
import { addressOf, missingOn, roles, storageClients, writeConcepts } from '../replication/support.js';

let grid: DeclarativeGrid | undefined;
const client = storageClients();

afterEach(async () => {
  const leaked = (await grid?.teardown()) ?? [];
  grid = undefined;
  expect(leaked).toEqual([]);
});

/** `sutra-grid <args> --master <this grid's master>`. */
function cli(g: DeclarativeGrid, ...args: string[]): Promise<CliResult> {
  return runCli([...args, '--master', g.master.address], { timeoutMs: 180_000 });
}

interface ListedAgent {
  readonly id: string;
  readonly cordoned: boolean;
  readonly cordonedBy: string;
  readonly cordonReason: string;
  readonly drain: string;
  readonly drainDeadlineMs: number;
  readonly nodes: number;
}

/** Declared nodes that have not stopped (a stopped copy may stay listed for a moment after a move). */
async function liveNodes(g: DeclarativeGrid, cluster: string): Promise<Awaited<ReturnType<DeclarativeGrid['nodes']>>> {
  return (await g.nodes(cluster)).filter((n) => n.status !== 'stopped');
}

async function listAgents(g: DeclarativeGrid): Promise<Map<string, ListedAgent>> {
  const res = await cli(g, 'list-agents', '--json');
  expect(res.code, res.stderr).toBe(0);
  return new Map((JSON.parse(res.stdout) as { agents: ListedAgent[] }).agents.map((a) => [a.id, a]));
}

describe('drain at a real master', () => {
  it('moves the leader and the replica off the agent with their data; the agent takes no new node until uncordoned', async () => {
    // GIVEN a 2-node leader-replicas cluster, both nodes on a1 (the only agent up when it was placed)
    grid = new DeclarativeGrid();
    await grid.startMaster();
    await grid.agent('a1');
    const agents = [{ id: 'a1' }, { id: 'a2' }, { id: 'a3' }];
    const spec = (nodes: number): string =>
      grid!.writeSpec(gridSpec(agents, [{ name: 'kv', nodes, topology: 'leader-replicas', update: { minHealthyTime: '300ms' } }]));
    await grid.apply(spec(2));
    const before = await eventually(async () => {
      const r = await roles(grid!, 'kv');
      return r.leader !== undefined && r.replicas.length === 1 && r.replicas[0]!.replication?.leader === addressOf(r.leader) ? r : undefined;
    }, 30_000);
    expect(before.all.map((n) => n.agentId)).toEqual(['a1', 'a1']);
    await Promise.all(['a2', 'a3'].map((id) => grid!.agent(id)));
    await eventually(async () => (await grid!.client.listAgents()).agents.filter((a) => a.health === 'healthy').length === 3, 20_000);

    // ...and 200 concepts written to the leader
    const written = await writeConcepts(client(before.leader!), 'c', 200);
    expect(written).toHaveLength(200);
    await eventually(async () => (await missingOn(client(before.replicas[0]!), written)).length === 0, 20_000, 200);

    // WHEN a1 is drained, waiting for it
    const drained = await cli(grid, 'drain', 'a1', '--deadline', '2m', '--reason', 'disk swap');
    expect(drained.code, drained.stdout + drained.stderr).toBe(0);
    expect(drained.stdout).toMatch(/^agent a1 draining \(disk swap\): its nodes move to other agents, paced by their update policy for 2m/);
    expect(drained.stdout).toMatch(/^ {2}2 nodes left on a1: kv-0 \(leader, running\), kv-1 \(replica, running\)$/m);
    expect(drained.stdout).toMatch(/^agent a1 drained in .*: it holds no declared node; uncordon it to place nodes on it again$/m);

    // THEN both nodes run elsewhere: the replica moved first, was promoted, and the old leader follows it
    const after = await eventually(async () => {
      const r = await roles(grid!, 'kv');
      const ok = r.leader !== undefined && r.replicas.length === 1 && r.all.every((n) => n.agentId !== 'a1');
      return ok && r.replicas[0]!.replication?.leader === addressOf(r.leader!) && r.replicas[0]!.replication.catchingUp === false ? r : undefined;
    }, 60_000, 250);
    expect(after.leader!.nodeId).toBe('kv-1');
    expect(new Set(after.all.map((n) => n.agentId))).toEqual(new Set(['a2', 'a3']));
    expect(await liveNodes(grid, 'kv')).toHaveLength(2);
    expect(grid.nodePids('a1')).toEqual([]);

    // ...every written concept is on the new leader and the new replica
    expect(await missingOn(client(after.leader!), written)).toEqual([]);
    await eventually(async () => (await missingOn(client(after.replicas[0]!), written)).length === 0, 30_000, 250);

    // ...the moves were rollout steps, replica first; the drain's start and end are events
    expect((await grid.events('RolloutStepStarted')).map((e) => e.nodeId)).toEqual(['kv-1', 'kv-0']);
    // ...one rollout for the whole drain, though the leader moved in a second wave
    await eventually(async () => (await grid!.events('RolloutDone')).some((e) => e.cluster === 'kv'), 10_000);
    expect((await grid.events('RolloutDone')).filter((e) => e.cluster === 'kv')).toHaveLength(1);
    const leaderChanges = await grid.events('LeaderChanged');
    expect(leaderChanges.map((e) => e.nodeId)).toEqual(['kv-1']);
    expect((await grid.events('AgentDrainStarted')).map((e) => ({ agentId: e.agentId, reason: e.payload['reason'] }))).toEqual([{ agentId: 'a1', reason: 'disk swap' }]);
    // (The master tells of it on its next pass, which may come after the CLI saw the agent empty.)
    await eventually(async () => (await grid!.events('AgentDrained')).length > 0, 10_000);
    expect((await grid.events('AgentDrained')).map((e) => e.agentId)).toEqual(['a1']);

    // ...and list-agents says a1 is drained
    expect((await listAgents(grid)).get('a1')).toMatchObject({ cordoned: true, cordonedBy: 'operator', cordonReason: 'disk swap', drain: 'drained', nodes: 0 });
    expect((await listAgents(grid)).get('a2')).toMatchObject({ cordoned: false, drain: '', drainDeadlineMs: 0 });
    expect((await cli(grid, 'list-agents')).stdout).toMatch(/^a1\s+healthy\s+drained \(disk swap\)\s/m);

    // WHEN the cluster scales up, THEN nothing is placed on a1 (spread would prefer it: it holds none)
    await grid.apply(spec(3));
    const scaled = await liveNodes(grid, 'kv');
    expect(scaled.map((n) => n.agentId)).not.toContain('a1');
    expect(scaled).toHaveLength(3);

    // WHEN a1 is uncordoned, THEN the next scale-up uses it
    const uncordoned = await cli(grid, 'uncordon', 'a1');
    expect(uncordoned.code, uncordoned.stderr).toBe(0);
    expect((await listAgents(grid)).get('a1')).toMatchObject({ cordoned: false, drain: '' });
    await grid.apply(spec(4));
    const final = await liveNodes(grid, 'kv');
    expect(final.find((n) => n.nodeId === 'kv-3')?.agentId).toBe('a1');
    expect(duplicates(final)).toEqual([]);
    expect(await missingOn(client(after.leader!), written)).toEqual([]);
  }, 300_000);

  it('refuses an unknown agent and a bad deadline by name; keeps nodes that fit nowhere; past its deadline a drain moves the rest unpaced', async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    await Promise.all(['a1', 'a2'].map((id) => grid!.agent(id)));
    const spec = grid.writeSpec(gridSpec([{ id: 'a1' }, { id: 'a2' }], [{ name: 'kv', nodes: 2, topology: 'standalone', agents: ['a1'] }]));
    await grid.apply(spec);

    const unknown = await cli(grid, 'drain', 'a9');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: agent "a9" not found: it is neither registered nor declared in the applied spec \(NOT_FOUND\)\n$/);
    const tooLong = await cli(grid, 'drain', 'a1', '--deadline', '25h');
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr).toMatch(/^error: .*--deadline.*must be more than 0 and at most 24h, got "25h"/);
    expect((await grid.client.listAgents()).agents.find((a) => a.info?.agentId === 'a1')?.cordon).toBeUndefined();

    // kv is pinned to a1: its nodes fit nowhere else, so they stay, reported unplaced naming the drain.
    const detached = await cli(grid, 'drain', 'a1', '--detach', '--json');
    expect(detached.code, detached.stderr).toBe(0);
    expect(JSON.parse(detached.stdout)).toMatchObject({ agentId: 'a1', drain: 'draining', changed: true });
    const unplaced = await eventually(async () => (await grid!.client.clusterStatus()).reconcile?.unplaced.find((u) => u.cluster === 'kv'), 20_000);
    expect(unplaced.reason).toContain('kv-0 stays on a1 (a1 is draining)');
    expect((await grid.nodes('kv')).map((n) => `${n.nodeId}@${n.agentId} ${n.status}`).sort()).toEqual(['kv-0@a1 running', 'kv-1@a1 running']);

    // WHEN kv may leave a1 under a policy that waits 10 minutes between steps, only its first step goes
    const slow = gridSpec([{ id: 'a1' }, { id: 'a2' }], [{ name: 'kv', nodes: 2, topology: 'standalone', update: { minHealthyTime: '10m', healthyDeadline: '20m' } }]);
    const applied = await grid.cli('apply', grid.writeSpec(slow), '--auto-approve', '--no-wait');
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    await eventually(async () => (await grid!.nodes('kv')).some((n) => n.nodeId === 'kv-0' && n.agentId === 'a2' && n.status === 'running'), 30_000);
    expect((await grid.nodes('kv')).find((n) => n.nodeId === 'kv-1')?.agentId).toBe('a1');

    // ...and once a new, short deadline passes, the rest moves without waiting for the policy
    const hurried = await cli(grid, 'drain', 'a1', '--deadline', '2s');
    expect(hurried.code, hurried.stdout + hurried.stderr).toBe(0);
    expect(hurried.stdout).toMatch(/^agent a1 drained in /m);
    // Drained means gone from a1; the last copy's start on a2 may still be under way.
    await eventually(async () => (await liveNodes(grid!, 'kv')).filter((n) => n.agentId === 'a2' && n.status === 'running').length === 2, 30_000);
    expect((await liveNodes(grid, 'kv')).map((n) => `${n.nodeId}@${n.agentId}`).sort()).toEqual(['kv-0@a2', 'kv-1@a2']);
    expect((await grid.events('RolloutStepStarted')).map((e) => e.nodeId)).toEqual(['kv-0']);
    expect((await grid.events('AgentDrainStarted')).map((e) => e.payload['reason'])).toEqual(['', '']);
  }, 180_000);

  it('a replica leaving a drained agent starts its new copy first (maxSurge): the node runs all along, the new copy runs before the old stops and holds every write', async () => {
    // GIVEN a 2-node cluster, its leader on a2 and its replica on a1, and a3 free
    grid = new DeclarativeGrid();
    await grid.startMaster();
    await Promise.all(['a1', 'a2', 'a3'].map((id) => grid!.agent(id)));
    const agents = [{ id: 'a1' }, { id: 'a2' }, { id: 'a3' }];
    await grid.apply(grid.writeSpec(gridSpec(agents, [{ name: 'kv', nodes: 2, topology: 'leader-replicas', agents: ['a1', 'a2'], update: { minHealthyTime: '300ms' } }])));
    const before = await eventually(async () => {
      const r = await roles(grid!, 'kv');
      return r.leader !== undefined && r.replicas.length === 1 && r.replicas[0]!.replication?.leader === addressOf(r.leader) && !r.replicas[0]!.replication.catchingUp ? r : undefined;
    }, 30_000);
    const replica = before.replicas[0]!;
    const written = await writeConcepts(client(before.leader!), 'c', 300);
    expect(written).toHaveLength(300);
    await eventually(async () => (await missingOn(client(replica), written)).length === 0, 20_000, 200);

    // WHEN the replica's agent is drained (the pin widened to a3 so it has somewhere to go), sampling the node every 100 ms
    // (the samples can show a gap; the order of start and stop is read from the event log below:
    // the old copy stops right once the new one runs, a window of milliseconds no sampling is sure to see)
    let sampling = true;
    const samples: { running: number; copies: string[] }[] = [];
    const sampler = (async () => {
      while (sampling) {
        const copies = (await grid!.nodes('kv')).filter((n) => n.nodeId === replica.nodeId);
        samples.push({ running: copies.filter((n) => n.status === 'running').length, copies: copies.map((n) => `${n.agentId}:${n.status}`) });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await grid.apply(grid.writeSpec(gridSpec(agents, [{ name: 'kv', nodes: 2, topology: 'leader-replicas', agents: ['a1', 'a2', 'a3'], update: { minHealthyTime: '300ms' } }])));
    const drained = await cli(grid, 'drain', replica.agentId, '--deadline', '2m');
    expect(drained.code, drained.stdout + drained.stderr).toBe(0);
    const moved = await eventually(async () => {
      const copies = (await grid!.nodes('kv')).filter((n) => n.nodeId === replica.nodeId && n.status !== 'stopped');
      return copies.length === 1 && copies[0]!.agentId === 'a3' && copies[0]!.status === 'running' ? copies[0]! : undefined;
    }, 60_000, 200);
    sampling = false;
    await sampler;

    // THEN at every sample a copy of the replica ran (a stop-first move has a gap)...
    expect(samples.length).toBeGreaterThan(5);
    expect(samples.filter((x) => x.running === 0), JSON.stringify(samples.slice(-30))).toEqual([]);
    // ...and the new copy was running (its spawn succeeded: health checked) before the old one was
    // asked to stop. (The master's CatchUpDone event comes from a later heartbeat, so it is no
    // witness of when the copy counted as caught up.)
    const ofNode = (events: GridEvent[], agentId: string): number[] => events.filter((e) => e.nodeId === replica.nodeId && e.agentId === agentId).map((e) => e.index);
    const [spawned] = ofNode(await grid.events('SpawnSucceeded'), 'a3');
    const [stopAsked] = ofNode(await grid.events('StopRequested'), replica.agentId);
    expect(spawned).toBeDefined();
    expect(stopAsked).toBeDefined();
    expect(spawned!).toBeLessThan(stopAsked!);
    // ...the new copy holds every write, the leader never changed, and a1 holds nothing
    expect(await missingOn(client(moved), written)).toEqual([]);
    expect((await roles(grid, 'kv')).leader?.nodeId).toBe(before.leader!.nodeId);
    expect(grid.nodePids(replica.agentId)).toEqual([]);
    const replaced = await grid.recordedEvents('NodeReplaced');
    expect(replaced.map((e) => [e.nodeId, e.agentId])).toEqual([[replica.nodeId, 'a3']]);
    expect(replaced[0]!.payload['reason']).toContain(`(from ${replica.agentId})`);
  }, 180_000);
});
