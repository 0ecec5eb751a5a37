/**
 * The spec's `monitoring` policy reaches standalone agents over the protocol and a standalone
 * master enforces its thresholds: the agents' config and the master's flags are only the fallback
 * before a spec exists (and after it is deleted).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { TestMasterClient } from '../helpers/grid-client.js';
import { eventually, runCli, startDaemon, trackPid } from '../helpers/processes.js';
import { DeclarativeGrid, gridSpec, portBlock, type GridEvent } from './support/declarative-grid.js';

let grid: DeclarativeGrid | undefined;

afterEach(async () => {
  const leaked = (await grid?.teardown()) ?? [];
  grid = undefined;
  expect(leaked).toEqual([]);
});

const POLICY_LINE = /applying the grid's policy \(generation (\d+)\): ([^"\n]+)/;

describe("the spec's policy on standalone processes", () => {
  it("agents follow the spec's restart policy, not their config; a changed spec and a deleted one reach them", async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    // Both agents' own config allows 3 restarts: the spec allows 1.
    const own = { monitoring: { restart_max: 3, restart_window_secs: 60, restart_backoff_ms: 50 } };
    await Promise.all(['a1', 'a2'].map((id) => grid!.agent(id, own)));
    const agents = ['a1', 'a2'].map((id) => ({ id }));
    const file = grid.writeSpec(gridSpec(agents, [{ name: 'kv', nodes: 1 }], { restart: { maxRestarts: 1, window: '60s', backoff: '50ms' } }));
    await grid.apply(file);
    const [first] = await grid.nodes();
    expect(first).toMatchObject({ nodeId: 'kv-0', status: 'running' });
    const home = first!.agentId;
    const line = await grid.agentProcess(home).waitForLog(POLICY_LINE, 10_000);
    expect(line[1]).toBe('1');
    expect(line[2]).toMatch(/^heartbeat 200ms, restarts 1 in 1m, backoff 50ms/);

    // WHEN the node crashes, is restarted once, and crashes again
    process.kill(first!.pid, 'SIGKILL');
    const restarted = await eventually(async () => (await grid!.nodes()).find((n) => n.agentId === home && n.status === 'running' && n.pid !== first!.pid), 15_000);
    trackPid(restarted.pid);
    process.kill(restarted.pid, 'SIGKILL');

    // THEN its agent fails it after that one restart (its config would have allowed 3) ...
    const failed = await eventually(async () => (await grid!.events('NodeFailed')).find((e) => e.nodeId === 'kv-0' && e.agentId === home), 15_000);
    expect(failed.payload['restartCount']).toBe(1);
    // ... and the master replaces it on the other agent
    const replaced = await eventually(async () => (await grid!.nodes()).find((n) => n.nodeId === 'kv-0' && n.agentId !== home && n.status === 'running'), 20_000);
    trackPid(replaced.pid);

    // WHEN the spec changes the policy, every agent applies the new one, once
    const changed = grid.writeSpec(gridSpec(agents, [{ name: 'kv', nodes: 1 }], { heartbeatInterval: '300ms', restart: { maxRestarts: 2, window: '30s', backoff: '100ms' } }));
    await grid.apply(changed);
    for (const id of ['a1', 'a2']) {
      await grid.agentProcess(id).waitForLog(/applying the grid's policy \(generation 2\): heartbeat 300ms, restarts 2 in 30s, backoff 100ms/, 10_000);
    }

    // WHEN the spec is deleted, the agents go back to their own config
    const { generation } = await grid.client.getSpec();
    await grid.client.deleteSpec(generation);
    for (const id of ['a1', 'a2']) {
      await grid.agentProcess(id).waitForLog(/the grid has no policy \(generation 3\): back to this agent's own config: heartbeat 200ms, restarts 3 in 1m, backoff 50ms/, 10_000);
    }
    // Each change was applied once: two policies and one return to the own config per agent.
    for (const id of ['a1', 'a2']) {
      const logs = grid.agentProcess(id).logs();
      expect(logs.match(/applying the grid's policy/g)?.length, logs).toBe(2);
      expect(logs.match(/the grid has no policy/g)?.length, logs).toBe(1);
    }
  });

  it("a standalone master marks a stopped agent degraded and offline per the spec's thresholds, not its flags", async () => {
    grid = new DeclarativeGrid();
    // The flags would take 30 s to see an agent degraded: the spec says 800 ms.
    await grid.startMaster(undefined, ['--heartbeat-interval', '1s', '--degraded-after', '30s', '--offline-after', '60s', '--settle', '1s']);
    // The agent's own heartbeat (1 s) would be degraded under the spec's thresholds: it must follow the spec's 200 ms.
    await grid.agent('a1', { monitoring: { heartbeat_interval_secs: 1 } });
    await grid.agentProcess('a1').waitForLog(/registered with the master/);

    // Before a spec, the wire says so: a policy with no value set but the master's offlineAfter (its flag), which bounds leases.
    const before = await grid.client.heartbeat('a1');
    expect(before.policy).toEqual({ generation: 0, offlineAfterMs: 60_000 });
    expect(before.heartbeatIntervalMs).toBe(1000);

    await grid.apply(grid.writeSpec(gridSpec([{ id: 'a1' }], [{ name: 'kv', nodes: 1 }])));
    // A beat on the agent's behalf carries its nodes as they are, so the master's view stays the same.
    const after = await grid.client.heartbeat('a1', (await grid.client.listNodes('a1')).nodes);
    expect(after.policy).toMatchObject({ generation: 1, heartbeatIntervalMs: 200, maxRestarts: 3 });
    expect(after.heartbeatIntervalMs).toBe(200);
    await grid.master.waitForLog(/monitoring per the spec's \(generation 1\): heartbeat every 200 ms; agents degraded after 800 ms and offline after 1600 ms/, 10_000);
    await grid.agentProcess('a1').waitForLog(/applying the grid's policy \(generation 1\): heartbeat 200ms/, 10_000);
    // The agent beats at the spec's interval: two spec-sized degraded windows pass without a degradation.
    await new Promise((r) => setTimeout(r, 1600));
    expect(await grid.events('AgentDegraded')).toEqual([]);

    // WHEN the agent is frozen
    const agent = grid.agentProcess('a1');
    const stoppedAt = Date.now();
    process.kill(agent.pid, 'SIGSTOP');
    try {
      // THEN the master sees it degraded, then offline, within the spec's bounds (plus slack for a loaded host), far before its flags'
      await eventually(async () => (await grid!.events('AgentDegraded')).find((e) => e.agentId === 'a1'), 15_000);
      const degradedMs = Date.now() - stoppedAt;
      await eventually(async () => (await grid!.events('AgentOffline')).find((e) => e.agentId === 'a1'), 15_000);
      const offlineMs = Date.now() - stoppedAt;
      expect(degradedMs).toBeLessThan(30_000);
      expect(offlineMs).toBeLessThan(30_000);
      console.log(`degraded seen after ${degradedMs} ms, offline after ${offlineMs} ms (spec: 800/1600 ms; flags: 30/60 s)`);
    } finally {
      process.kill(agent.pid, 'SIGCONT');
    }
  });

  it('without a spec, an agent follows its own config', async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    await grid.agent('a1', { monitoring: { restart_max: 1, restart_window_secs: 60, restart_backoff_ms: 50 } });
    await grid.agentProcess('a1').waitForLog(/registered with the master/);
    const { node } = await grid.client.spawn({ agentId: 'a1', nodeId: 'solo' });
    trackPid(node!.pid);

    // WHEN the node crashes, is restarted, and crashes again
    process.kill(node!.pid, 'SIGKILL');
    const restarted = await eventually(async () => (await grid!.client.listNodes('a1')).nodes.find((n) => n.nodeId === 'solo' && n.status === 'running' && n.pid !== node!.pid), 15_000);
    trackPid(restarted.pid);
    process.kill(restarted.pid, 'SIGKILL');

    // THEN it fails after its config's one restart, and no grid policy was ever applied
    const failed = await eventually(async () => (await grid!.events('NodeFailed')).find((e) => e.nodeId === 'solo'), 15_000);
    expect(failed.payload['restartCount']).toBe(1);
    expect(grid.agentProcess('a1').logs()).not.toMatch(/grid's policy|the grid has no policy/);
  });

  it("`up`'s local agents get the spec's policy from the master, as any agent does", async () => {
    grid = new DeclarativeGrid();
    const ports = portBlock(50);
    const file = grid.writeSpec(`name: up-policy
monitoring: { heartbeatInterval: 200ms, degradedAfter: 800ms, offlineAfter: 1600ms, restart: { maxRestarts: 1, window: 60s, backoff: 50ms } }
storage:
  dataPath: ${join(grid.dir('up-data'), 'nodes')}
  memory: 64Mi
  portRange: { start: ${ports.start}, end: ${ports.end} }
agents:
  - { id: u1, platform: process, capacity: { nodes: 2 } }
clusters:
  - { name: kg, nodes: 1 }
`);
    const stateDir = join(grid.dir('up-state'), '.grid');
    const up = grid.adopt(await startDaemon('master', ['up', file, '--listen', '127.0.0.1:0', '--state-dir', stateDir], { env: { LOG_LEVEL: 'info' }, timeoutMs: 60_000 }));
    await up.waitForLog(/^grid converged$/m, 60_000);
    await up.waitForLog(/applying the grid's policy \(generation 1\): heartbeat 200ms, restarts 1 in 1m, backoff 50ms/, 10_000);
    const client = new TestMasterClient(up.address);
    try {
      const [first] = (await client.listNodes()).nodes;
      trackPid(first!.pid);
      // WHEN its node crashes, is restarted once, and crashes again, the spec's one restart is spent
      process.kill(first!.pid, 'SIGKILL');
      const restarted = await eventually(async () => (await client.listNodes()).nodes.find((n) => n.status === 'running' && n.pid !== first!.pid), 15_000);
      trackPid(restarted.pid);
      process.kill(restarted.pid, 'SIGKILL');
      const failed = await eventually(async () => {
        const res = await runCli(['events', '--type', 'NodeFailed', '--json', '--master', up.address]);
        return (JSON.parse(res.stdout) as { events: GridEvent[] }).events.find((e) => e.nodeId === 'kg-0');
      }, 15_000);
      expect(failed.payload['restartCount']).toBe(1);
    } finally {
      client.close();
    }
    const exit = await up.stop('SIGINT', 30_000);
    expect(exit, up.logs()).toEqual({ code: 0, signal: null });
  });
});
