/**
 * Real-process test helpers: start `sutra-grid` daemons as child processes, wait for their
 * "<name> listening on HOST:PORT" line, collect their output, and make sure everything a test
 * started is killed and every temp dir removed, even when the test fails.
 *
 * Use: `afterEach(cleanup)` in every file that calls these. Needs `npm run build` first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STORAGE_BUNDLE_ENTRY } from '../../runtime/storage/bundle-files.js';
import { storagePortConfig } from './ports.js';

/** Repository root. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The CLI launcher, as users run it. */
export const CLI = join(REPO_ROOT, 'bin', 'sutra-grid.js');

const running = new Set<DaemonProcess>();
const extraPids = new Set<number>();
const tempDirs = new Set<string>();

/** A started daemon. */
export interface DaemonProcess {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** The address from its listening line. */
  readonly address: string;
  /** Everything it wrote so far (stdout then stderr interleaved as received). */
  logs(): string;
  /** Resolves with the first match of `pattern` in its output (past or future). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Sends `signal` and waits for exit; SIGKILLs after `timeoutMs`. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Environment for children: inherited, minus the grid variables a developer may have set. */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'info' };
  delete env['SUTRA_GRID_TOKEN'];
  delete env['SUTRA_GRID_MASTER'];
  return { ...env, ...extra };
}

/**
 * Starts `node bin/sutra-grid.js <args>` and waits until it prints `<name> listening on ADDR`.
 * @throws with the collected output when it exits or times out first.
 */
export async function startDaemon(
  name: string,
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; wrap?: readonly string[] } = {},
): Promise<DaemonProcess> {
  const proc = spawnCli(args, opts);
  let output = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    for (const w of [...waiters]) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    proc.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      running.delete(daemon);
      for (const w of [...waiters]) w();
      resolveExit(exitInfo);
    });
  });

  const waitForLog = (pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> =>
    new Promise((resolveWait, reject) => {
      const check = (): void => {
        const m = pattern.exec(output);
        if (m) {
          done();
          resolveWait(m);
        } else if (exitInfo !== undefined) {
          done();
          reject(new Error(`${name} exited (${JSON.stringify(exitInfo)}) before printing ${pattern}; output:\n${output}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms; output:\n${output}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  const daemon: DaemonProcess = {
    proc,
    pid: proc.pid ?? 0,
    address: '',
    logs: () => output,
    waitForLog,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000) {
      if (exitInfo !== undefined) return exitInfo;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  running.add(daemon);
  const m = await waitForLog(new RegExp(`${name} listening on ([^\\s"]+)`), opts.timeoutMs ?? 20_000);
  return Object.assign(daemon, { address: m[1]! });
}

/** Options of {@link startMaster}. */
export interface MasterProcessOptions {
  readonly dataDir?: string;
  readonly listen?: string;
  /** e.g. `['--heartbeat-interval', '200ms']`. */
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

/** Starts `sutra-grid master` on an ephemeral loopback port with a fresh data dir. */
export function startMaster(opts: MasterProcessOptions = {}): Promise<DaemonProcess> {
  const dataDir = opts.dataDir ?? tempDir('master-');
  return startDaemon('master', ['master', '--listen', opts.listen ?? '127.0.0.1:0', '--data-dir', dataDir, ...(opts.args ?? [])], { env: opts.env });
}

/** Options of {@link startAgent}. */
export interface AgentProcessOptions {
  readonly id: string;
  /** The master's address. */
  readonly master: string;
  readonly dataDir?: string;
  readonly listen?: string;
  /** e.g. `['--max-nodes', '1', '--heartbeat-interval', '200ms']`. */
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Starts `sutra-grid agent` (process platform) on an ephemeral loopback port with a fresh data dir,
 * its nodes on a port block no other agent of the test run uses (ports.ts; the agent has no flag for
 * the range, so it comes in a one-table config file).
 */
export function startAgent(opts: AgentProcessOptions): Promise<DaemonProcess> {
  const dataDir = opts.dataDir ?? tempDir(`agent-${opts.id}-`);
  const ports = storagePortConfig();
  const config = join(tempDir('agent-ports-'), 'agent-config.toml');
  writeFileSync(config, `[storage]\ndefault_port_range_start = ${ports.default_port_range_start}\nport_range_size = ${ports.port_range_size}\n`);
  return startDaemon(
    `agent ${opts.id}`,
    ['agent', '--config', config, '--id', opts.id, '--master', opts.master, '--listen', opts.listen ?? '127.0.0.1:0', '--data-dir', dataDir, ...(opts.args ?? [])],
    { env: opts.env },
  );
}

/** Pids of live processes whose command line mentions `text` (e.g. an agent's data dir). */
export function pidsMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const state = /State:\s+(\w)/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      if (state !== 'Z' && cmdline.includes(text)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** Result of one CLI run. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Spawns `node bin/sutra-grid.js <args>`; with `wrap` (e.g. `['ip', 'netns', 'exec', NS]`, which
 * execs node in the same pid) run through that command.
 */
function spawnCli(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; wrap?: readonly string[] }): ChildProcess {
  const argv = [...(opts.wrap ?? []), process.execPath, CLI, ...args];
  return spawn(argv[0]!, argv.slice(1), { cwd: REPO_ROOT, env: childEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs `sutra-grid <args>` to completion (`wrap` as in {@link startDaemon}). */
export function runCli(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; wrap?: readonly string[] } = {}): Promise<CliResult> {
  return new Promise((resolveRun, reject) => {
    const proc = spawnCli(args, opts);
    let stdout = '';
    let stderr = '';
    proc.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`sutra-grid ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 60_000} ms; stderr: ${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

/** A fresh temp dir, removed by {@link cleanup}. */
export function tempDir(prefix = 'sutra-grid-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/**
 * Starts the bundled storage-server (dist/runtime/bundle) on a free loopback port, storing in a
 * fresh temp dir, with `env`; its address once it listens. Killed by {@link cleanup}.
 */
export async function startBundledStorageServer(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return (await spawnBundledStorageServer(env)).address;
}

/** {@link startBundledStorageServer}, with its process (to signal it, or wait for its exit). */
export function spawnBundledStorageServer(env: NodeJS.ProcessEnv = process.env): Promise<{ address: string; child: ChildProcess }> {
  const entry = join(REPO_ROOT, 'dist', 'runtime', 'bundle', STORAGE_BUNDLE_ENTRY);
  const child = spawn(process.execPath, [entry, '--port', '0', '--host', '127.0.0.1', '--storage-path', join(tempDir(), 'node')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  trackPid(child.pid!);
  return new Promise((resolveAddress, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolveAddress({ address: m[1]!, child });
    });
    child.once('exit', (code) => reject(new Error(`storage-server exited ${code} before listening`)));
  });
}

/** Also SIGKILL this pid (e.g. a storage node orphaned by a killed agent) in {@link cleanup}. */
export function trackPid(pid: number): void {
  if (pid > 0) extraPids.add(pid);
}

/** True when a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills every daemon and tracked pid this file started and removes its temp dirs. */
export async function cleanup(): Promise<void> {
  await Promise.all([...running].map((d) => d.stop('SIGTERM', 5_000)));
  for (const pid of extraPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  extraPids.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Polls `fn` until it returns a truthy value; throws the last failure after `timeoutMs`. */
export async function eventually<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw lastError instanceof Error ? lastError : new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
