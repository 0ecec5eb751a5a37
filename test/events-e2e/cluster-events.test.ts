/**
 * Declarative-layer events from a real grid: SpecApplied, cluster health (healthy, degraded,
 * critical) as its nodes are killed, LeaderChanged, and PlacementFailed for a spec that cannot be
 * placed. (test/declarative covers the reconciler itself; this checks the facts reach the log.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DeclarativeGrid, gridSpec } from '../declarative/support/declarative-grid.js';
import { EventsClient, type SeenEvent } from './support.js';

let grid: DeclarativeGrid | undefined;
let events: EventsClient | undefined;

afterEach(async () => {
  events?.close();
  events = undefined;
  await grid?.teardown();
  grid = undefined;
});


/**
 * `waitFor` that, on a timeout, says what the grid did meanwhile: the master's log lines about the
 * cluster and the last events it recorded (a rare CI timeout here had nothing else to go on).
 */
async function waitExplained(c: EventsClient, type: string, match: (e: SeenEvent) => boolean): Promise<SeenEvent> {
  try {
    return await c.waitFor(type, match);
  } catch (err) {
    const log = (grid?.masterLogs() ?? '').split('\n').filter((l) => /kv|promot|leader|crash|fail/i.test(l)).slice(-40);
    const recent = (await c.list().catch(() => [])).slice(-25).map((e) => `#${e.index} ${e.type} ${e.nodeId} ${JSON.stringify(e.payload)}`);
    throw new Error(`${(err as Error).message}\nmaster log:\n${log.join('\n')}\nlast events:\n${recent.join('\n')}`);
  }
}

describe('cluster events', () => {
  it('apply: SpecApplied, ClusterHealthy; leader killed: ClusterCritical, LeaderChanged, ClusterDegraded, NodeReplaced, healthy again; all killed: ClusterCritical', async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    // Crashed nodes stay down, so the cluster's health follows the kills.
    await grid.agent('a1', { monitoring: { restart_failed_nodes: false } });
    const c = (events = new EventsClient(grid.master.address));

    await grid.apply(grid.writeSpec(gridSpec([{ id: 'a1' }], [{ name: 'kv', nodes: 2, topology: 'leader-replicas' }])));
    const applied = await c.waitFor('SpecApplied');
    expect(applied.payload).toEqual({ generation: 1, nodes: 2 });
    const healthy = await c.waitFor('ClusterHealthy', (e) => e.cluster === 'kv');
    expect(healthy.payload).toEqual({ healthyNodes: 2, totalNodes: 2 });
    expect(healthy.index).toBeGreaterThan(applied.index);
    // A cluster still being created raises no alarm: nothing degraded or critical before it is healthy.
    const alarms = [...(await c.ofType('ClusterCritical')), ...(await c.ofType('ClusterDegraded'))];
    expect(alarms.filter((e) => e.index < healthy.index)).toEqual([]);

    const nodes = await grid.nodes('kv');
    const leader = nodes.find((n) => n.role === 'leader')!;
    const replica = nodes.find((n) => n.role !== 'leader')!;
    expect(leader).toBeDefined();

    // WHEN the leader dies: critical (no leader), the replica is promoted, the cluster runs
    // degraded until the failed node is replaced, then is healthy again
    process.kill(leader.pid, 'SIGKILL');
    const afterKill = (from: number) => (e: SeenEvent): boolean => e.cluster === 'kv' && e.index > from;
    const leaderless = await waitExplained(c, 'ClusterCritical', afterKill(healthy.index));
    expect(leaderless).toMatchObject({ severity: 'error', payload: { healthyNodes: 1, totalNodes: 2, reason: 'no leader running' } });
    const promoted = await waitExplained(c, 'LeaderChanged', afterKill(healthy.index));
    expect(promoted).toMatchObject({ nodeId: replica.nodeId, payload: { leaderId: replica.nodeId, term: expect.any(Number) } });
    const degraded = await waitExplained(c, 'ClusterDegraded', afterKill(healthy.index));
    expect(degraded).toMatchObject({ severity: 'warning', payload: { healthyNodes: 1, totalNodes: 2 } });
    const replaced = await waitExplained(c, 'NodeReplaced', afterKill(healthy.index));
    expect(replaced).toMatchObject({ nodeId: leader.nodeId, payload: { oldNodeId: leader.nodeId, reason: expect.stringContaining('failed') } });
    const healthyAgain = await waitExplained(c, 'ClusterHealthy', afterKill(replaced.index));
    expect(leaderless.index).toBeLessThan(degraded.index);
    expect(degraded.index).toBeLessThan(healthyAgain.index);

    // WHEN every node dies at once: critical, nothing running
    for (const n of await grid.nodes('kv')) process.kill(n.pid, 'SIGKILL');
    const down = await waitExplained(c, 'ClusterCritical', (e) => afterKill(healthyAgain.index)(e) && e.payload['healthyNodes'] === 0);
    expect(down.payload).toEqual({ healthyNodes: 0, totalNodes: 2, reason: 'no node running' });

    // The reconciler's own spawns and stops name the cluster like the agent's reports do.
    const requested = await c.ofType('SpawnRequested');
    expect(requested.length).toBeGreaterThanOrEqual(3);
    expect(requested.every((e) => e.cluster === 'kv')).toBe(true);
  });

  it('a cluster no agent can hold: PlacementFailed naming the cluster, once, not per reconcile pass', async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    // The spec allows a1 four nodes; the live agent takes one: only the live check can refuse.
    await grid.agent('a1', { maxNodes: 1 });
    const c = (events = new EventsClient(grid.master.address));

    const file = grid.writeSpec(gridSpec([{ id: 'a1', nodes: 4 }], [{ name: 'big', nodes: 3 }]));
    const res = await grid.cli('apply', file, '--auto-approve', '--no-wait');
    expect(res.code, res.stderr).toBe(0);
    const failed = await c.waitFor('PlacementFailed', (e) => e.cluster === 'big');
    expect(failed).toMatchObject({ severity: 'warning', payload: { group: 'big', reason: expect.stringMatching(/2 of 3 nodes unplaced: capacity exhausted on a1/) } });
    // Reconcile passes run every 200 ms; the same reason is not recorded again.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await c.ofType('PlacementFailed', { cluster: 'big' })).toHaveLength(1);
  });
});
