/**
 * Spawn benchmark (issue 2): spawn-to-running of a storage node through a real agent process
 * (SpawnNode RPC: checks, process start, health SERVING) beside the bare start of the same
 * storage-server (spawn -> health SERVING, probed the same way), measured in the same run and
 * interleaved so both see the same machine load. Then crash-to-running-again: kill -9 of a node
 * until the agent reports it running with a new pid.
 *
 * Run: `npm run build && node dist/bench/spawn.bench.js [spawns=50] [crashes=20]`
 * Targets: agent spawn p50 <= 1.3x bare start p50; crash-to-running p50 <= 1.5x bare start p50.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { GridAgentClient, type NodeInfo } from '../proto/gen/sutra/grid/v1/agent.pb.js';
import { unary } from '../client/index.js';
import { PROBE_INTERVAL_MS, bareStart, startDaemon } from './bench-support.js';

const SPAWNS = Number(process.argv[2] ?? 50);
const CRASHES = Number(process.argv[3] ?? 20);

type Unary<Req, Res> = Parameters<typeof unary<Req, Res>>[0];

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'spawn-bench-'));
  const master = await startDaemon(['master', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'master')], /master listening on ([^\s"]+)/);
  const config = join(dir, 'agent-config.toml');
  writeFileSync(
    config,
    [
      '[agent]', 'agent_id = "bench"', `master_endpoint = "${master.address}"`, 'agent_port = 0', 'max_storage_nodes = 4',
      '[storage]', `data_path = "${join(dir, 'agent')}"`, 'default_memory_mb = 64', `default_port_range_start = ${20000 + Math.floor(Math.random() * 30000)}`,
      '[monitoring]', `startup_probe_interval_ms = ${PROBE_INTERVAL_MS}`,
    ].join('\n'),
  );
  const agent = await startDaemon(['agent', '--config', config], /agent bench listening on (\S+)/);
  const client = new GridAgentClient(agent.address, credentials.createInsecure());
  const call = <Req, Res>(m: unknown, req: Req): Promise<Res> => unary(m as Unary<Req, Res>, client, req, undefined, 60_000);
  const spawnNode = async (nodeId: string): Promise<NodeInfo> =>
    (await call<object, { node?: NodeInfo }>(client.spawnNode, { nodeId, port: 0, memoryMb: 0, storagePath: '', cluster: '', role: '', generation: 0 })).node!;
  const stopNode = (nodeId: string): Promise<unknown> => call(client.stopNode, { nodeId, graceMs: 5000 });
  const status = async (nodeId: string): Promise<NodeInfo> => (await call<object, { node?: NodeInfo }>(client.getNodeStatus, { nodeId })).node!;

  const bare: number[] = [];
  const viaAgent: number[] = [];
  const crash: number[] = [];
  try {
    // Warm-up (page cache, JIT of the agent's paths), not measured.
    await bareStart(dir, -1);
    await spawnNode('warm');
    await stopNode('warm');
    for (let i = 0; i < SPAWNS; i++) {
      // Alternate which goes first so neither always runs right after a stop.
      const order = i % 2 === 0 ? ['bare', 'agent'] : ['agent', 'bare'];
      for (const which of order) {
        if (which === 'bare') bare.push(await bareStart(dir, i));
        else {
          const t0 = performance.now();
          const node = await spawnNode(`s${i}`);
          viaAgent.push(performance.now() - t0);
          if (node.status !== 'running') throw new Error(`spawn returned ${node.status}`);
          await stopNode(`s${i}`);
        }
      }
    }
    for (let i = 0; i < CRASHES; i++) {
      const node = await spawnNode(`c${i}`);
      const t0 = performance.now();
      process.kill(node.pid, 'SIGKILL');
      for (;;) {
        const s = await status(`c${i}`);
        if (s.status === 'running' && s.pid !== node.pid) break;
        await new Promise((r) => setTimeout(r, 2));
      }
      crash.push(performance.now() - t0);
      await stopNode(`c${i}`);
    }
  } finally {
    client.close();
    agent.proc.kill('SIGTERM');
    await new Promise((r) => agent.proc.once('exit', r));
    master.proc.kill('SIGTERM');
    await new Promise((r) => master.proc.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }

  const row = (name: string, xs: number[]): string => `| ${name} | ${xs.length} | ${pct(xs, 50).toFixed(0)} | ${pct(xs, 99).toFixed(0)} | ${(pct(xs, 50) / pct(bare, 50)).toFixed(2)}x |`;
  console.log('| measure | n | p50 ms | p99 ms | p50 vs bare |');
  console.log('|---|---|---|---|---|');
  console.log(row('bare storage-server start -> SERVING', bare));
  console.log(row('agent SpawnNode -> running', viaAgent));
  console.log(row('kill -9 -> running again (new pid)', crash));
  const spawnRatio = pct(viaAgent, 50) / pct(bare, 50);
  const crashRatio = pct(crash, 50) / pct(bare, 50);
  console.log(`\nspawn ratio ${spawnRatio.toFixed(2)} (target <= 1.3): ${spawnRatio <= 1.3 ? 'PASS' : 'FAIL'}`);
  console.log(`crash ratio ${crashRatio.toFixed(2)} (target <= 1.5): ${crashRatio <= 1.5 ? 'PASS' : 'FAIL'}`);
  console.log(JSON.stringify({ bare: { p50: pct(bare, 50), p99: pct(bare, 99) }, spawn: { p50: pct(viaAgent, 50), p99: pct(viaAgent, 99) }, crash: { p50: pct(crash, 50), p99: pct(crash, 99) } }));
}

await main();
