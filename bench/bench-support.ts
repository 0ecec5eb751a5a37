/**
 * What the process benchmarks share: starting daemons from the built CLI, free ports, an agent's
 * config and idle nodes, a process's RSS, and the baseline every spawn figure is compared with — a
 * bare storage-server start timed to SERVING.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { unary } from '../client/index.js';
import { GridAgentClient, SpawnNodeRequest } from '../proto/gen/sutra/grid/v1/agent.pb.js';
import { HealthProbe } from '../runtime/agent/health-probe.js';
import { storageServerEntry } from '../runtime/storage/entry.js';

export const REPO = resolve(import.meta.dirname, '../..');
export const CLI = join(REPO, 'bin', 'sutra-grid.js');
/** The storage entry agents spawn (the bundle with its code cache, when built); the bare baseline starts the same file. */
export const STORAGE_ENTRY = storageServerEntry();
/** Health probe interval, the same as the agent's startup probe. */
export const PROBE_INTERVAL_MS = 10;

/** A port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Starts a daemon (of the CLI at `cli`, this build's by default) and resolves with the address from its `... listening on ADDR` line. */
export function startDaemon(args: string[], pattern: RegExp, cli = CLI): Promise<{ proc: ChildProcess; address: string }> {
  const proc = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } });
  return new Promise((res, rej) => {
    let out = '';
    const on = (c: Buffer): void => {
      out += c.toString();
      const m = pattern.exec(out);
      if (m) res({ proc, address: m[1]! });
    };
    proc.stdout!.on('data', on);
    proc.stderr!.on('data', on);
    proc.once('exit', (code) => rej(new Error(`exited ${code} before listening: ${out}`)));
  });
}

/** Stops `daemons` with SIGTERM, the last started first, each before the next. */
export async function stopDaemons(daemons: readonly ChildProcess[]): Promise<void> {
  for (const d of [...daemons].reverse()) {
    const exited = new Promise((r) => d.once('exit', r));
    if (d.exitCode === null && d.signalCode === null) {
      d.kill('SIGTERM');
      await exited;
    }
  }
}

/** Bare start: the storage-server spawned directly, timed until its health check says SERVING. */
export async function bareStart(dir: string, i: number): Promise<number> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [STORAGE_ENTRY, '--port', String(port), '--storage-path', join(dir, `bare-${i}`), '--memory', '64'], { stdio: 'ignore' });
  const probe = new HealthProbe(`127.0.0.1:${port}`);
  const ok = await probe.waitServing(PROBE_INTERVAL_MS, 30_000, new AbortController().signal);
  const ms = performance.now() - t0;
  probe.close();
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  if (!ok) throw new Error('bare storage-server did not become SERVING');
  return ms;
}

/** VmRSS of `pid`, in MB. */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Writes the config of an agent `name` of the master at `master` (data under `dir`) and returns its path. */
export function agentConfig(dir: string, name: string, master: string): string {
  const file = join(dir, `${name}.toml`);
  writeFileSync(
    file,
    [
      '[agent]', `agent_id = "${name}"`, `master_endpoint = "${master}"`, 'agent_port = 0', 'max_storage_nodes = 8',
      '[storage]', `data_path = "${join(dir, name)}"`, 'default_memory_mb = 64', `default_port_range_start = ${20000 + Math.floor(Math.random() * 30000)}`,
      // A one-second restart window makes every kill of the healthy node a first crash, restarted at
      // once, as pm2 and supervisord restart theirs: the default (3 in 60 s, then failed) would end
      // the crash case after four quick rounds on a quiet machine.
      '[monitoring]', `startup_probe_interval_ms = ${PROBE_INTERVAL_MS}`, 'restart_window_secs = 1',
    ].join('\n'),
  );
  return file;
}

/** Spawns `count` nodes (idle0, idle1...) on the agent at `address`, one after another; returns their pids. */
export async function spawnIdleNodes(address: string, count: number): Promise<number[]> {
  const client = new GridAgentClient(address, credentials.createInsecure());
  type Spawn = Parameters<typeof unary<object, { node?: { pid: number } }>>[0];
  const pids: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const answer = await unary(client.spawnNode as unknown as Spawn, client, SpawnNodeRequest.fromPartial({ nodeId: `idle${i}` }), undefined, 60_000);
      pids.push(answer.node!.pid);
    }
    return pids;
  } finally {
    client.close();
  }
}
