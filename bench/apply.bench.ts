/**
 * Apply benchmark (issue 3): wall time of `sutra-grid apply --auto-approve` (as a user runs it:
 * plan, store, reconcile, wait until converged) for one cluster of 100 nodes over 10 local agents
 * (process platform), beside 100 x the bare start time of one storage-server (spawn -> health
 * SERVING) measured in the same run, right before each apply, so both see the same machine load.
 * Each run starts from an empty grid: the previous run's spec is deleted and its nodes are gone.
 *
 * Run: `npm run build && node dist/bench/apply.bench.js [runs=3] [nodes=100] [agents=10]`
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasterClient, waitDrained } from '../client/index.js';
import { CLI, PROBE_INTERVAL_MS, bareStart, startDaemon } from './bench-support.js';

const RUNS = Number(process.argv[2] ?? 3);
const NODES = Number(process.argv[3] ?? 100);
const AGENTS = Number(process.argv[4] ?? 10);
/** Bare starts per run; their median x NODES is the sequential baseline. */
const BARE_SAMPLES = 5;
const PORTS_PER_AGENT = Math.max(20, 2 * Math.ceil(NODES / AGENTS));

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Runs the CLI to completion; rejects with its output when it does not exit 0. */
function runCli(args: string[]): Promise<string> {
  const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((res, rej) => proc.once('exit', (code) => (code === 0 ? res(out) : rej(new Error(`sutra-grid ${args[0]} exited ${code}:\n${out}`)))));
}

function specYaml(agentIds: readonly string[], dataPath: string): string {
  const perAgent = Math.ceil(NODES / agentIds.length);
  return [
    'name: bench',
    'monitoring: { heartbeatInterval: 1s, degradedAfter: 5s, offlineAfter: 10s }',
    `storage: { dataPath: ${dataPath}, memory: 64Mi }`,
    'agents:',
    ...agentIds.map((id) => `  - { id: ${id}, platform: process, capacity: { nodes: ${perAgent} } }`),
    'clusters:',
    `  - { name: bench, nodes: ${NODES} }`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'apply-bench-'));
  const daemons: ChildProcess[] = [];
  const portBase = 20_000 + Math.floor(Math.random() * 200) * 100;
  const results: Array<{ applyMs: number; bareMs: number }> = [];
  let client: MasterClient | undefined;
  try {
    const master = await startDaemon(
      ['master', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'master'), '--heartbeat-interval', '1s', '--degraded-after', '5s', '--offline-after', '10s', '--reconcile-interval', '200ms'],
      /master listening on ([^\s"]+)/,
    );
    daemons.push(master.proc);
    client = new MasterClient({ address: master.address, callTimeoutMs: 30_000 });
    const c = client;
    const agentIds = Array.from({ length: AGENTS }, (_, i) => `bench-${i + 1}`);
    for (const [i, id] of agentIds.entries()) {
      const config = join(dir, `${id}.toml`);
      writeFileSync(
        config,
        [
          '[agent]', `agent_id = "${id}"`, `master_endpoint = "${master.address}"`, 'agent_port = 0', `max_storage_nodes = ${Math.ceil(NODES / AGENTS)}`,
          '[storage]', `data_path = "${join(dir, id)}"`, 'default_memory_mb = 64',
          `default_port_range_start = ${portBase + i * PORTS_PER_AGENT}`, `port_range_size = ${PORTS_PER_AGENT}`,
          '[monitoring]', 'heartbeat_interval_secs = 1', `startup_probe_interval_ms = ${PROBE_INTERVAL_MS}`,
        ].join('\n'),
      );
      daemons.push((await startDaemon(['agent', '--config', config], new RegExp(`agent ${id} listening on (\\S+)`))).proc);
    }
    const specFile = join(dir, 'grid.yaml');
    writeFileSync(specFile, specYaml(agentIds, join(dir, 'nodes')));
    await bareStart(dir, -1); // warm-up: page cache and JIT, not measured

    for (let run = 0; run < RUNS; run++) {
      const bare: number[] = [];
      for (let i = 0; i < BARE_SAMPLES; i++) bare.push(await bareStart(dir, run * BARE_SAMPLES + i));
      const t0 = performance.now();
      await runCli(['apply', specFile, '--auto-approve', '--timeout', '10m', '--master', master.address]);
      const applyMs = performance.now() - t0;
      const nodes = await c.listNodes({ cluster: 'bench' });
      const running = nodes.filter((n) => n.status === 'running').length;
      if (running !== NODES) throw new Error(`run ${run + 1}: ${running} of ${NODES} nodes running after apply`);
      results.push({ applyMs, bareMs: median(bare) });
      console.log(`run ${run + 1}: apply ${(applyMs / 1000).toFixed(2)} s; bare start median ${median(bare).toFixed(0)} ms (x${NODES} = ${((median(bare) * NODES) / 1000).toFixed(2)} s)`);

      // Back to an empty grid for the next run.
      const { generation } = await c.getSpec();
      await c.deleteSpec(generation);
      const drained = await waitDrained(c, new Set(['bench']), { timeoutMs: 600_000 });
      if (!drained.done) throw new Error(`run ${run + 1}: nodes still up after the delete: ${drained.remaining.join('; ')}`);
    }
  } finally {
    client?.close();
    // Agents first (each stops its nodes), then the master.
    for (const p of daemons.slice(1)) p.kill('SIGTERM');
    await Promise.all(daemons.slice(1).map((p) => (p.exitCode === null ? new Promise((r) => p.once('exit', r)) : Promise.resolve())));
    daemons[0]?.kill('SIGTERM');
    if (daemons[0] && daemons[0].exitCode === null) await new Promise((r) => daemons[0]!.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }

  const applyMs = median(results.map((r) => r.applyMs));
  const sequentialMs = median(results.map((r) => r.bareMs)) * NODES;
  console.log(`\n| measure (median of ${results.length} runs) | seconds |`);
  console.log('|---|---|');
  console.log(`| apply ${NODES} nodes over ${AGENTS} agents -> converged | ${(applyMs / 1000).toFixed(2)} |`);
  console.log(`| ${NODES} x bare storage-server start -> SERVING | ${(sequentialMs / 1000).toFixed(2)} |`);
  console.log(`\nratio apply / (${NODES} x bare start) = ${(applyMs / sequentialMs).toFixed(2)}`);
  console.log(JSON.stringify({ runs: results, applyMedianMs: Math.round(applyMs), sequentialBareMs: Math.round(sequentialMs), ratio: Number((applyMs / sequentialMs).toFixed(3)) }));
}

await main();
