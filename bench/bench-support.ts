/**
 * What the process benchmarks share: starting daemons from the built CLI, free ports, and the
 * baseline every spawn figure is compared with — a bare storage-server start timed to SERVING.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
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
