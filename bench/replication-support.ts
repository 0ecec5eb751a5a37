/**
 * What the replication benchmark shares between its parts: one temp root and every process it
 * started (so a sweep on exit, error or signal leaves nothing behind, not even the storage nodes an
 * agent killed with -9 had spawned), storage-servers started by hand from the lean entry, a
 * promise-style storage client, and percentiles.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { StorageControlClient, StorageServiceClient, type ReplicationStatus } from '../proto/gen/sutra/grid/v1/storage.pb.js';
import { unary } from '../client/index.js';
import { CLI, STORAGE_ENTRY } from './bench-support.js';

type Unary<Req, Res> = Parameters<typeof unary<Req, Res>>[0];

/** Every file and process of one benchmark run: its temp root, and the children started under it. */
export class BenchScope {
  readonly root = mkdtempSync(join(tmpdir(), 'replication-bench-'));
  private readonly children = new Set<ChildProcess>();
  private seq = 0;

  /** A fresh directory under the root. */
  dir(name: string): string {
    const d = join(this.root, `${name}-${++this.seq}`);
    mkdirSync(d, { recursive: true });
    return d;
  }

  /**
   * Starts `node <script> ...args` and resolves once a line of its output matches `pattern` (group 1:
   * the address). Rejects with its output if it exits first or says nothing matching in `timeoutMs`.
   */
  start(script: string, args: readonly string[], pattern: RegExp, timeoutMs = 30_000): Promise<{ proc: ChildProcess; address: string }> {
    const proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } });
    this.children.add(proc);
    proc.once('exit', () => this.children.delete(proc));
    return new Promise((res, rej) => {
      let out = '';
      let listening = false;
      const timer = setTimeout(() => rej(new Error(`${args.slice(0, 2).join(' ')}: no listening line in ${timeoutMs} ms: ${out.slice(-2000)}`)), timeoutMs);
      // Output is read all along (a full pipe would block the daemon) but kept only until it listens.
      const on = (c: Buffer): void => {
        if (listening) return;
        out += c.toString();
        const m = pattern.exec(out);
        if (m) {
          listening = true;
          clearTimeout(timer);
          res({ proc, address: m[1]! });
        }
      };
      proc.stdout!.on('data', on);
      proc.stderr!.on('data', on);
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        rej(new Error(`${args.slice(0, 2).join(' ')} exited ${code ?? signal} before listening: ${out.slice(-2000)}`));
      });
    });
  }

  /** A storage-server from the lean entry agents spawn, on an ephemeral port; resolves with its address. */
  async storage(name: string, flags: readonly string[]): Promise<{ proc: ChildProcess; address: string }> {
    return this.start(STORAGE_ENTRY, ['--port', '0', '--storage-path', join(this.dir(name), 'data'), ...flags], /storage-server listening on (\S+)/);
  }

  /** `sutra-grid <args>` from the CLI, resolving with the address its line matching `pattern` names. */
  daemon(args: readonly string[], pattern: RegExp): Promise<{ proc: ChildProcess; address: string }> {
    return this.start(CLI, args, pattern);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(proc: ChildProcess, graceMs = 8000): Promise<void> {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /**
   * Kills whatever is left: children still running, then any process whose command line names the
   * root (storage nodes of an agent killed with -9 outlive it), and removes the root.
   */
  sweep(): void {
    for (const c of this.children) c.kill('SIGKILL');
    for (const pid of pidsMentioning(this.root)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Pids of live processes (other than this one) whose command line mentions `text`. */
export function pidsMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(pid);
    } catch {
      // exited while listed
    }
  }
  return pids;
}

/** StorageService (LearnConcept, QueryConcept) and StorageControl (GetReplicationStatus), promise style. */
export class BenchStorageClient {
  private readonly data: StorageServiceClient;
  private readonly control: StorageControlClient;

  constructor(readonly address: string) {
    this.data = new StorageServiceClient(address, credentials.createInsecure());
    this.control = new StorageControlClient(address, credentials.createInsecure());
  }

  learn(id: string, timeoutMs = 10_000): Promise<{ created: boolean }> {
    return unary(this.data.learnConcept as unknown as Unary<object, { created: boolean }>, this.data, { id, content: `value of ${id}`, attributes: {} }, undefined, timeoutMs);
  }

  async found(id: string, timeoutMs = 10_000): Promise<boolean> {
    const res = await unary(this.data.queryConcept as unknown as Unary<object, { found: boolean }>, this.data, { id }, undefined, timeoutMs);
    return res.found;
  }

  async status(): Promise<ReplicationStatus> {
    const res = await unary(this.control.getReplicationStatus as unknown as Unary<object, { status?: ReplicationStatus }>, this.control, {}, undefined, 10_000);
    return res.status!;
  }

  close(): void {
    this.data.close();
    this.control.close();
  }
}

/** The p-th percentile (nearest rank) of `xs`; NaN when empty. */
export function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

/** Polls `check` every `everyMs` until it returns a value other than undefined; throws after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 50): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(everyMs);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
