/**
 * Rolling against all-at-once (issue 13), in one run with the two cases interleaved so both see the
 * same machine: a real grid (a master and 4 agents as processes) with a 12-node leader-replicas
 * cluster (async) and a memory change applied with the CLI, under
 * - rolling: `update: { maxUnavailable: 1, minHealthyTime: 1s }` (the leader last, after a handover);
 * - all at once: `update: { maxUnavailable: 12, minHealthyTime: 0s }` (every node restarts together).
 * Measured per change: the apply's wall time (the CLI waits for the rollout), the fewest nodes
 * serving a read at any sample (every 100 ms), and the writes a client sending one write after
 * another to the current leader got refused or timed out, with the longest gap between two
 * acknowledged writes.
 *
 * Run: `npm run build && node dist/bench/rollout.bench.js [rounds=3]`
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import type { MasterClient } from '../client/index.js';
import { addressOf, runCli, startBenchGrid } from './bench-grid.js';
import { BenchScope, BenchStorageClient, pct, sleep, waitFor } from './replication-support.js';

const ROUNDS = Number(process.argv[2] ?? 3);
const NODES = 12;
const AGENTS = ['a1', 'a2', 'a3', 'a4'];
const HEARTBEAT_MS = 500;
/** Generous: on a loaded 2-core host a tight threshold marks agents offline, which is not what is measured here. */
const OFFLINE_AFTER_MS = 10_000;

type Mode = 'rolling' | 'all-at-once';
const POLICY: Record<Mode, string> = {
  rolling: '{ maxUnavailable: 1, minHealthyTime: 1s }',
  'all-at-once': `{ maxUnavailable: ${NODES}, minHealthyTime: 0s }`,
};

interface Sample {
  readonly seconds: number;
  readonly minRunning: number;
  readonly failedWrites: number;
  readonly ackedWrites: number;
  readonly longestGapMs: number;
}

function spec(mode: Mode, memory: string): string {
  return [
    'name: bench',
    `monitoring: { heartbeatInterval: ${HEARTBEAT_MS}ms, degradedAfter: ${OFFLINE_AFTER_MS / 2}ms, offlineAfter: ${OFFLINE_AFTER_MS}ms, replaceAfter: 10m, restart: { backoff: 50ms } }`,
    `storage: { memory: ${memory} }`,
    'agents:',
    ...AGENTS.map((id) => `  - { id: ${id}, platform: process, capacity: { nodes: 4 } }`),
    'clusters:',
    `  - { name: kg, nodes: ${NODES}, topology: leader-replicas, update: ${POLICY[mode]} }`,
    '',
  ].join('\n');
}

/**
 * Every 100 ms until `stop`: how many of the cluster's nodes serve a read (QueryConcept answered
 * within 1 s), at the addresses ListNodes gives. (ListNodes' own status is not used: while a new
 * term is being told to the replicas it counts them all as starting for a moment.)
 */
async function sampleServing(master: MasterClient, state: { stop: boolean; min: number }): Promise<void> {
  const clients = new Map<string, BenchStorageClient>();
  while (!state.stop) {
    const { nodes } = await master.call('listNodes', { agentId: '', cluster: 'kg' });
    const addresses = [...new Set(nodes.filter((n) => n.port > 0).map(addressOf))];
    const answers = await Promise.all(addresses.map(async (a) => {
      let c = clients.get(a);
      if (c === undefined) clients.set(a, (c = new BenchStorageClient(a)));
      return c.found('probe', 1000).then(() => true, () => false);
    }));
    state.min = Math.min(state.min, answers.filter(Boolean).length);
    await sleep(100);
  }
  for (const c of clients.values()) c.close();
}

/** Writes one after another to whichever node ListNodes says leads, until `stop`. */
async function writeAll(master: MasterClient, state: { stop: boolean; acked: number[]; failed: number }): Promise<void> {
  let client: BenchStorageClient | undefined;
  for (let i = 0; !state.stop; i++) {
    try {
      if (client === undefined) {
        const { nodes } = await master.call('listNodes', { agentId: '', cluster: 'kg' });
        const leader = nodes.find((n) => n.status === 'running' && n.replication?.role === 'leader');
        if (leader === undefined) throw new Error('no leader');
        client = new BenchStorageClient(addressOf(leader));
      }
      await client.learn(`w-${i}`, 2000);
      state.acked.push(performance.now());
    } catch {
      state.failed++;
      client?.close();
      client = undefined;
      await sleep(20);
    }
  }
  client?.close();
}

async function changeOnce(scope: BenchScope, mode: Mode): Promise<Sample> {
  const grid = await startBenchGrid(scope, { agents: AGENTS, nodesPerAgent: 4, heartbeatMs: HEARTBEAT_MS, offlineAfterMs: OFFLINE_AFTER_MS });
  try {
    const file = join(grid.dir, 'grid.yaml');
    writeFileSync(file, spec(mode, '64Mi'));
    await runCli(['apply', file, '--auto-approve', '--timeout', '3m', '--master', grid.masterAddress]);
    await waitFor('12 nodes running', async () => ((await grid.master.call('listNodes', { agentId: '', cluster: 'kg' })).nodes.filter((n) => n.status === 'running').length === NODES ? true : undefined), 120_000, 200);
    const running = { stop: false, min: NODES };
    const writes = { stop: false, acked: [] as number[], failed: 0 };
    const sampling = sampleServing(grid.master, running);
    const writing = writeAll(grid.master, writes);
    await sleep(1000);
    writeFileSync(file, spec(mode, '80Mi'));
    const t0 = performance.now();
    await runCli(['apply', file, '--auto-approve', '--timeout', '10m', '--master', grid.masterAddress]);
    const seconds = (performance.now() - t0) / 1000;
    await sleep(1000);
    running.stop = true;
    writes.stop = true;
    await Promise.all([sampling, writing]);
    const gaps = writes.acked.slice(1).map((t, i) => t - writes.acked[i]!);
    return { seconds, minRunning: running.min, failedWrites: writes.failed, ackedWrites: writes.acked.length, longestGapMs: Math.max(0, ...gaps) };
  } finally {
    await grid.teardown();
  }
}

async function main(): Promise<void> {
  const scope = new BenchScope();
  const results: Record<Mode, Sample[]> = { rolling: [], 'all-at-once': [] };
  const loads: string[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const order: Mode[] = r % 2 === 0 ? ['rolling', 'all-at-once'] : ['all-at-once', 'rolling'];
      for (const mode of order) {
        const s = await changeOnce(scope, mode);
        results[mode].push(s);
        loads.push(loadavg()[0]!.toFixed(2));
        console.log(`round ${r + 1} ${mode}: ${s.seconds.toFixed(1)} s, fewest serving ${s.minRunning}/${NODES}, writes refused ${s.failedWrites} of ${s.failedWrites + s.ackedWrites}, longest write gap ${Math.round(s.longestGapMs)} ms`);
      }
    }
  } finally {
    scope.sweep();
  }
  const med = (xs: number[]): number => pct(xs, 50);
  console.log(`\nload average (1 min) after each change: ${loads.join(' ')}`);
  console.log('| policy | apply (rollout) s, median | fewest nodes serving reads, median (min) | writes refused, median | longest write gap ms, median |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const mode of ['rolling', 'all-at-once'] as const) {
    const s = results[mode];
    console.log(`| ${mode} ${POLICY[mode]} | ${med(s.map((x) => x.seconds)).toFixed(1)} | ${med(s.map((x) => x.minRunning))} (${Math.min(...s.map((x) => x.minRunning))}) | ${med(s.map((x) => x.failedWrites))} | ${Math.round(med(s.map((x) => x.longestGapMs)))} |`);
  }
  const ratio = med(results.rolling.map((x) => x.seconds)) / med(results['all-at-once'].map((x) => x.seconds));
  console.log(`rolling takes ${ratio.toFixed(1)}x the time of all-at-once`);
}

await main();
