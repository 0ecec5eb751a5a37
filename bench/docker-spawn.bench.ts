/**
 * Docker spawn benchmark (issue 6): spawn-to-running of a container node through the agent's
 * NodeSupervisor on the Docker platform (checks, create + start, health SERVING: what SpawnNode
 * waits for) and crash-to-running-again (SIGKILL of the container's process until NodeRestarted),
 * beside a bare `docker run -d` of the same image and command to health SERVING, measured in the
 * same run, interleaved so all see the same machine load.
 *
 * Run: `bash .ci/dockerd.sh start && npm run build && node dist/bench/docker-spawn.bench.js [runs] [host|bridge]`
 * (default 20 runs, host networking). Engine from $SUTRA_DOCKER_SOCKET; the image is (re)built
 * from dist/ by scripts/build-test-image.sh when out of date.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DockerPlatform } from '../runtime/agent/docker-platform.js';
import { NodeSupervisor } from '../runtime/agent/node-supervisor.js';
import { silentLogger } from '../runtime/common/logger.js';
import { NO_REPLICATION } from '../runtime/common/grid-types.js';
import { freePort, PROBE_INTERVAL_MS } from './bench-support.js';
import type { DockerNetworkMode } from '../runtime/agent/docker-container-spec.js';
import { HealthProbe } from '../runtime/agent/health-probe.js';

const run = promisify(execFile);
const SOCKET = process.env['SUTRA_DOCKER_SOCKET'] ?? '/tmp/sutra-docker/docker.sock';
const IMAGE = process.env['SUTRA_TEST_IMAGE'] ?? 'sutra-grid:test';
const REPO = resolve(import.meta.dirname, '../..');
const TOKEN = 'docker-bench-token';

async function untilServing(port: number): Promise<void> {
  const probe = new HealthProbe(`127.0.0.1:${port}`);
  try {
    if (!(await probe.waitServing(PROBE_INTERVAL_MS, 30_000, new AbortController().signal))) {
      throw new Error(`127.0.0.1:${port} not SERVING within 30 s`);
    }
  } finally {
    probe.close();
  }
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function summary(name: string, samples: readonly number[]): { name: string; p50: number; p99: number; min: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { name, p50: quantile(s, 0.5), p99: quantile(s, 0.99), min: s[0]!, max: s[s.length - 1]! };
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 20);
  const network = (process.argv[3] ?? 'host') as DockerNetworkMode;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs: expected a positive integer, got ${process.argv[2]}`);
  if (network !== 'host' && network !== 'bridge') throw new Error(`network: expected host or bridge, got ${network}`);

  await run('bash', [join(REPO, 'scripts/build-test-image.sh'), IMAGE], { cwd: REPO, env: { ...process.env, SUTRA_DOCKER_SOCKET: SOCKET } });
  const dataDir = await mkdtemp(join(tmpdir(), 'sutra-docker-bench-'));
  const agentId = `bench-${process.pid}`;
  /** Resolvers of runs waiting for a node's NodeRestarted event. */
  const restarted = new Map<string, () => void>();
  const platform = await DockerPlatform.create({
    socketPath: SOCKET,
    image: IMAGE,
    agentId,
    dataDir,
    network,
    ...(network === 'bridge' ? { token: TOKEN } : {}),
  });
  const supervisor = new NodeSupervisor(
    platform,
    {
      agentId,
      dataPath: dataDir,
      defaultMemoryMb: 128,
      portRangeStart: 20000,
      portRangeSize: 100,
      maxNodes: 4,
      maxMemoryMb: 0,
      startupProbeIntervalMs: PROBE_INTERVAL_MS,
      startTimeoutMs: 30_000,
      healthCheckIntervalMs: 10_000,
      stopGraceMs: 0,
      restart: { enabled: true, maxRestarts: 1_000, windowMs: 60_000, backoffMs: 200, backoffMaxMs: 5_000 },
    },
    silentLogger,
    (e) => {
      if (e.type === 'NodeRestarted') restarted.get(e.nodeId)?.();
    },
  );
  const tokenFile = join(dataDir, 'bare-token');
  await writeFile(tokenFile, TOKEN, { mode: 0o600 });

  const platformMs: number[] = [];
  const crashMs: number[] = [];
  const bareMs: number[] = [];
  try {
    // One unmeasured round of each warms the page cache and the Engine.
    for (let i = -1; i < runs; i++) {
      // Platform node: what SpawnNode waits for before answering `running`.
      const nodeId = `n${i + 1}`;
      const port = await freePort();
      let t0 = performance.now();
      await supervisor.spawn({ nodeId, port, memoryMb: 128, storagePath: '', cluster: 'bench', role: 'storage', generation: 1, ...NO_REPLICATION });
      if (i >= 0) platformMs.push(performance.now() - t0);

      // Crash: SIGKILL of the container's process -> die event -> restart -> SERVING again.
      const back = new Promise<void>((r, reject) => {
        const timer = setTimeout(() => reject(new Error(`node ${nodeId} not running again within 60 s of its crash`)), 60_000);
        restarted.set(nodeId, () => {
          clearTimeout(timer);
          r();
        });
      });
      t0 = performance.now();
      process.kill(supervisor.get(nodeId).pid, 'SIGKILL');
      await back;
      if (i >= 0) crashMs.push(performance.now() - t0);
      restarted.delete(nodeId);
      await supervisor.stop(nodeId, 1);

      // Bare: the same image and command through the docker CLI, nothing else.
      const barePort = await freePort();
      const bareDir = join(dataDir, `bare${i + 1}`);
      const netArgs =
        network === 'host'
          ? ['--network', 'host']
          : ['-p', `127.0.0.1:${barePort}:${barePort}`, '-v', `${tokenFile}:/run/sutra/token:ro`];
      const serverArgs = ['--port', String(barePort), '--storage-path', '/data', '--memory', '128', '--host', network === 'host' ? '127.0.0.1' : '0.0.0.0'];
      if (network === 'bridge') serverArgs.push('--token-file', '/run/sutra/token');
      const name = `sutra-bench-bare-${process.pid}-${i + 1}`;
      t0 = performance.now();
      await run('docker', ['-H', `unix://${SOCKET}`, 'run', '-d', '--name', name, ...netArgs, '-v', `${bareDir}:/data`, '-m', '128m', '--entrypoint', 'node', IMAGE, '/app/dist/runtime/storage/main.js', ...serverArgs]);
      await untilServing(barePort);
      if (i >= 0) bareMs.push(performance.now() - t0);
      await run('docker', ['-H', `unix://${SOCKET}`, 'rm', '-f', name]);
    }
  } finally {
    await supervisor.stopAll(1);
    await supervisor.close();
    await rm(dataDir, { recursive: true, force: true });
  }

  const p = summary('agent spawn -> running (supervisor)', platformMs);
  const c = summary('crash -> running again (supervisor)', crashMs);
  const b = summary('bare docker run -d to SERVING', bareMs);
  const fmt = (x: number): string => x.toFixed(0).padStart(6);
  process.stdout.write(`docker spawn-to-running, ${runs} runs each, network=${network}, image ${IMAGE}\n`);
  process.stdout.write(`${'case'.padEnd(40)}${'p50'.padStart(6)}${'p99'.padStart(7)}${'min'.padStart(7)}${'max'.padStart(7)}  (ms)\n`);
  for (const r of [p, c, b]) process.stdout.write(`${r.name.padEnd(40)}${fmt(r.p50)} ${fmt(r.p99)} ${fmt(r.min)} ${fmt(r.max)}\n`);
  process.stdout.write(`ratio p50 spawn/bare: ${(p.p50 / b.p50).toFixed(2)}x, crash/bare: ${(c.p50 / b.p50).toFixed(2)}x\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`docker-spawn bench: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
