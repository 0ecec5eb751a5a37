/**
 * `GET /metrics` against a real master and agent, parsed by a strict Prometheus text-format
 * parser: every family well-formed, and the values follow the grid (a spawned node raises the
 * nodes gauge and the spawn histogram; kill -9 raises the restarts and crashes counters).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, trackPid } from '../helpers/processes.js';
import { stringify } from 'yaml';
import { HttpGrid, gridSpec } from './support/http-grid.js';
import { parsePrometheusText, sampleValue, type Family } from './support/prom-text.js';

let grid: HttpGrid;

beforeAll(async () => {
  grid = new HttpGrid();
  await grid.startHttpMaster();
  await grid.agent('a1');
});

afterAll(async () => {
  const leaked = await grid.teardown();
  expect(leaked).toEqual([]);
});

async function scrape(): Promise<Map<string, Family>> {
  return parsePrometheusText(await grid.metricsText());
}

/** Scrapes until `ready` holds for a scrape; returns it. */
function scrapeUntil(ready: (m: Map<string, Family>) => boolean, timeoutMs = 20_000): Promise<Map<string, Family>> {
  return eventually(async () => {
    const m = await scrape();
    return ready(m) ? m : undefined;
  }, timeoutMs);
}

describe('/metrics', () => {
  it('is the Prometheus text format with the documented families, named by convention', async () => {
    const res = await fetch(`${grid.http}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = parsePrometheusText(await res.text());
    const expected: Record<string, string> = {
      sutra_grid_agents: 'gauge',
      sutra_grid_nodes: 'gauge',
      sutra_grid_node_restarts_total: 'counter',
      sutra_grid_node_crashes_total: 'counter',
      sutra_grid_spawn_duration_seconds: 'histogram',
      sutra_grid_stop_duration_seconds: 'histogram',
      sutra_grid_heartbeat_interval_seconds: 'histogram',
      sutra_grid_agent_heartbeat_age_seconds: 'gauge',
      sutra_grid_reconcile_pass_duration_seconds: 'histogram',
      sutra_grid_reconcile_actions_total: 'counter',
      sutra_grid_reconcile_pending_actions: 'gauge',
      sutra_grid_event_store_write_duration_seconds: 'histogram',
      sutra_grid_event_store_written_events_total: 'counter',
      sutra_grid_events_dropped_total: 'counter',
      sutra_grid_event_store_pending_events: 'gauge',
      sutra_grid_replication_lag_records: 'gauge',
      sutra_grid_cluster_desired_nodes: 'gauge',
      sutra_grid_cluster_running_nodes: 'gauge',
      sutra_grid_spec_generation: 'gauge',
      sutra_grid_event_log_last_index: 'gauge',
      sutra_grid_rollout_steps_total: 'counter',
    };
    for (const [name, type] of Object.entries(expected)) {
      expect(m.get(name)?.type, name).toBe(type);
      expect(m.get(name)?.help, name).not.toBe('');
    }
    for (const f of m.values()) {
      expect(f.name).toMatch(/^sutra_grid_[a-z_]+$/);
      if (f.type === 'counter') expect(f.name).toMatch(/_total$/);
    }
    // The agent registered and beats: healthy, heartbeats observed, events written.
    const beating = await scrapeUntil((s) => sampleValue(s, 'sutra_grid_agents', { health: 'healthy' }) === 1 && sampleValue(s, 'sutra_grid_heartbeat_interval_seconds_count') >= 2);
    expect(sampleValue(beating, 'sutra_grid_agents', { health: 'offline' })).toBe(0);
    expect(sampleValue(beating, 'sutra_grid_agent_heartbeat_age_seconds', { agent: 'a1' })).toBeLessThan(30);
    expect(sampleValue(beating, 'sutra_grid_event_store_written_events_total')).toBeGreaterThan(0);
    expect(sampleValue(beating, 'sutra_grid_event_store_write_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThan(0);
    expect(sampleValue(beating, 'sutra_grid_events_dropped_total')).toBe(0);
  });

  it('follows the grid: a spawn raises the nodes gauge, kill -9 raises restarts and crashes', async () => {
    const before = await scrape();
    const running = (m: Map<string, Family>): number => sampleValue(m, 'sutra_grid_nodes', { status: 'running' });
    expect(running(before)).toBe(0);
    expect(sampleValue(before, 'sutra_grid_spawn_duration_seconds_count')).toBe(0);

    // WHEN a node is spawned by hand
    const spawned = await grid.post('spawn', { agentId: 'a1', nodeId: 'm-1' });
    expect(spawned.status, JSON.stringify(spawned.body)).toBe(200);
    const pid = Number(spawned.body['pid']);
    trackPid(pid);
    // THEN it counts among the nodes, and the spawn was timed
    const up = await scrapeUntil((m) => running(m) === 1);
    expect(sampleValue(up, 'sutra_grid_nodes', { cluster: '', status: 'running', role: '' })).toBe(1);
    expect(sampleValue(up, 'sutra_grid_spawn_duration_seconds_count', { outcome: 'ok' })).toBe(1);
    expect(sampleValue(up, 'sutra_grid_spawn_duration_seconds_sum', { outcome: 'ok' })).toBeGreaterThan(0);
    expect(sampleValue(up, 'sutra_grid_node_restarts_total')).toBe(0);

    // WHEN its process is killed with SIGKILL, the agent restarts it
    process.kill(pid, 'SIGKILL');
    const restarted = await scrapeUntil((m) => sampleValue(m, 'sutra_grid_node_restarts_total', { cluster: '' }) === 1 && running(m) === 1, 30_000);
    expect(sampleValue(restarted, 'sutra_grid_node_crashes_total', { cluster: '' })).toBe(1);
    const node = await grid.call('nodes/m-1');
    expect(node.body).toMatchObject({ restarts: 1 });
    trackPid(Number(node.body['pid']));

    // WHEN it is stopped, the stop is timed and it no longer runs
    expect((await grid.post('stop', { nodeId: 'm-1' })).status).toBe(200);
    const stopped = await scrapeUntil((m) => running(m) === 0);
    expect(sampleValue(stopped, 'sutra_grid_stop_duration_seconds_count', { outcome: 'ok' })).toBe(1);
  });

  it('times reconcile passes, counts their actions, and shows each replica\'s lag', async () => {
    const spec = gridSpec([{ id: 'a1' }], [{ name: 'kv', nodes: 1 }, { name: 'rep', nodes: 2, topology: 'leader-replicas', replication: { durability: 'async' } }]);
    const applied = await grid.postYaml('apply?expectedGeneration=0', stringify(spec));
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    const m = await scrapeUntil((s) => sampleValue(s, 'sutra_grid_reconcile_actions_total', { op: 'create', outcome: 'ok' }) === 3 && sampleValue(s, 'sutra_grid_cluster_running_nodes', { cluster: 'rep' }) === 2, 40_000);
    expect(sampleValue(m, 'sutra_grid_reconcile_pass_duration_seconds_count')).toBeGreaterThan(0);
    expect(sampleValue(m, 'sutra_grid_cluster_desired_nodes', { cluster: 'kv' })).toBe(1);
    expect(sampleValue(m, 'sutra_grid_spec_generation')).toBe(1);
    expect(sampleValue(m, 'sutra_grid_nodes', { cluster: 'kv', status: 'running', role: 'standalone' })).toBe(1);
    expect(sampleValue(m, 'sutra_grid_nodes', { cluster: 'rep', role: 'leader' })).toBe(1);
    for (const n of await grid.nodes()) trackPid(n.pid);
    // The replica reports its position: one lag series, for the replica only, caught up.
    const lag = await scrapeUntil((s) => (s.get('sutra_grid_replication_lag_records')?.samples.length ?? 0) > 0, 20_000);
    const series = lag.get('sutra_grid_replication_lag_records')!.samples;
    expect(series).toEqual([{ name: 'sutra_grid_replication_lag_records', labels: { cluster: 'rep', node: expect.stringMatching(/^rep-[01]$/) }, value: 0 }]);
  });

  it('counts rollout steps by cluster and outcome as a changed spec rolls through', async () => {
    const before = await scrape();
    expect(sampleValue(before, 'sutra_grid_rollout_steps_total', { cluster: 'kv', outcome: 'started' })).toBe(0);
    // WHEN kv's memory changes: its node is replaced as one rollout step
    const spec = gridSpec([{ id: 'a1' }], [{ name: 'kv', nodes: 1, memory: '96Mi', update: { minHealthyTime: '300ms' } }, { name: 'rep', nodes: 2, topology: 'leader-replicas', replication: { durability: 'async' } }]);
    const applied = await grid.postYaml('apply?expectedGeneration=1', stringify(spec));
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    // THEN the step is counted started, then done; none failed, and rep rolled nothing
    const m = await scrapeUntil((s) => sampleValue(s, 'sutra_grid_rollout_steps_total', { cluster: 'kv', outcome: 'done' }) === 1, 60_000);
    expect(sampleValue(m, 'sutra_grid_rollout_steps_total', { cluster: 'kv', outcome: 'started' })).toBe(1);
    expect(sampleValue(m, 'sutra_grid_rollout_steps_total', { cluster: 'kv', outcome: 'failed' })).toBe(0);
    expect(sampleValue(m, 'sutra_grid_rollout_steps_total', { cluster: 'rep', outcome: 'started' })).toBe(0);
    for (const n of await grid.nodes()) trackPid(n.pid);
  });
});
