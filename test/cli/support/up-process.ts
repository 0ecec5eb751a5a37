/**
 * `sutra-grid up` as a person runs it in a terminal: in its own process group (as a shell job is),
 * optionally with its stdout piped into another program, stopped by signals sent to the whole
 * group. Every path the grid uses carries a per-test marker, so the processes it leaves behind
 * (storage nodes, `up` itself, the pipeline's reader) are found by command line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestMasterClient } from '../../helpers/grid-client.js';
import { portBlock } from '../../helpers/ports.js';
import { CLI, childEnv, eventually, pidsMentioning, REPO_ROOT, tempDir } from '../../helpers/processes.js';

/** A spec with one local agent and `nodes` nodes; returns paths under the marker dir. */
export interface UpGrid {
  readonly marker: string;
  readonly dir: string;
  readonly specFile: string;
  readonly stateDir: string;
  readonly dataDir: string;
  /** host:port the embedded master listens on. */
  readonly listen: string;
}

/**
 * Writes the grid.yaml of one test. Ports come from the caller (this file's own range): the
 * output of `up` may be cut by the pipe under test, so the master's address must be known upfront.
 */
export function upGrid(o: { nodes?: number; binary?: string } = {}): UpGrid {
  // The master's port and the nodes' range from a block nothing else in the run uses, below the
  // ephemeral ports (a fixed port there can be taken by any outgoing connection's local end).
  const block = portBlock(50);
  const masterPort = block.start;
  const portStart = block.start + 10;
  const marker = `sgu${randomBytes(4).toString('hex')}-`;
  const dir = tempDir(marker);
  const dataDir = join(dir, 'nodes');
  const specFile = join(dir, 'grid.yaml');
  writeFileSync(
    specFile,
    `name: up-signals
monitoring: { heartbeatInterval: 200ms, degradedAfter: 800ms, offlineAfter: 1600ms, replaceAfter: 2s }
storage:
  dataPath: ${dataDir}
  memory: 64Mi
  portRange: { start: ${portStart}, end: ${portStart + 19} }
${o.binary !== undefined ? `  binary: ${o.binary}\n` : ''}agents:
  - { id: u1, platform: process, capacity: { nodes: 4 } }
clusters:
  - { name: kg, nodes: ${o.nodes ?? 2} }
`,
  );
  return { marker, dir, specFile, stateDir: join(dir, 'state'), dataDir, listen: `127.0.0.1:${masterPort}` };
}

/** A process group started by a test: `up` alone, or a shell pipeline around it. */
export interface UpGroup {
  readonly proc: ChildProcess;
  /** Process group id (= the leader's pid). */
  readonly pgid: number;
  /** stdout and stderr of the leader as read so far. */
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` to every process of the group, as a terminal's Ctrl+C or hang-up does. */
  signalGroup(signal: NodeJS.Signals): void;
}

function startGroup(command: string, args: readonly string[]): UpGroup {
  // detached: a new process group, like a shell job, so the test can signal the whole group.
  const proc = spawn(command, args, { cwd: REPO_ROOT, env: childEnv({ LOG_LEVEL: 'error' }), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    proc,
    pgid: proc.pid!,
    stdout: () => out,
    stderr: () => err,
    exited,
    signalGroup: (signal) => process.kill(-proc.pid!, signal),
  };
}

/** `up` alone, leading its own group; its stdout and stderr are pipes the test keeps reading. */
export function startUp(g: UpGrid): UpGroup {
  return startGroup(process.execPath, [CLI, 'up', g.specFile, '--listen', g.listen, '--state-dir', g.stateDir]);
}

/**
 * `up` in a terminal of its own: util-linux `script` plays the terminal emulator (a pty whose
 * master it holds), so killing `script` closes the terminal as closing a window does: the kernel
 * hangs the pty up, sends SIGHUP to `up`, and its writes fail with EIO from then on.
 */
export function startUpInTerminal(g: UpGrid): UpGroup {
  const command = [process.execPath, CLI, 'up', g.specFile, '--listen', g.listen, '--state-dir', g.stateDir].map((a) => `'${a}'`).join(' ');
  return startGroup('script', ['-qfec', command, '/dev/null']);
}

/** The reader `up` is piped into. */
export type PipeReader = 'tee' | 'head -c 2000' | 'head -c 100';

/**
 * `sutra-grid up FILE | tee LOG` (or `| head -c N > LOG`) run by /bin/sh in its own group, as a
 * person types it. The shell is the test's way to build the pipeline only; `up`'s stderr stays
 * the shell's stderr, which the test reads.
 */
export function startUpPipeline(g: UpGrid, reader: PipeReader): { group: UpGroup; logFile: string } {
  const logFile = join(g.dir, 'up.log');
  // stdbuf -o0: head writes each read at once instead of at exit, so the test can see in the file
  // that `up` reached its steady state before signalling (head on a terminal writes at once too).
  const sink = reader === 'tee' ? 'tee "$6" > /dev/null' : `stdbuf -o0 ${reader} > "$6"`;
  const script = `"$1" "$2" up "$3" --listen "$4" --state-dir "$5" | ${sink}`;
  const group = startGroup('/bin/sh', ['-c', script, 'sh', process.execPath, CLI, g.specFile, g.listen, g.stateDir, logFile]);
  return { group, logFile };
}

/** Waits until the grid's master lists `nodes` running nodes. */
export async function waitRunning(g: UpGrid, nodes: number, group?: UpGroup, timeoutMs = 45_000): Promise<number[]> {
  const client = new TestMasterClient(g.listen);
  try {
    return await eventually(async () => {
      const listed = (await client.listNodes()).nodes.filter((n) => n.status === 'running');
      return listed.length === nodes ? listed.map((n) => n.pid) : undefined;
    }, timeoutMs, 200).catch((err: unknown) => {
      // `up`'s own words say why its grid never ran.
      throw new Error(`${(err as Error).message}\nup's stderr:\n${group?.stderr() ?? '(not captured)'}`);
    });
  } finally {
    client.close();
  }
}

/**
 * Waits (at most `timeoutMs`) until no process mentions the grid's marker and none is left in the
 * test's process group, and returns what is still there: `up`, its storage nodes (each in a group
 * of its own, found by its data path), the pipeline's shell and reader. Empty means clean.
 */
export async function leftBehind(g: UpGrid, timeoutMs: number, group?: UpGroup): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = [...new Set([...pidsMentioning(g.marker), ...(group !== undefined ? groupMembers(group.pgid) : [])])];
    if (pids.length === 0 || Date.now() > deadline) return pids.map(describe);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Live (not zombie) processes of process group `pgid`. */
function groupMembers(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so split after it.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state !== 'Z' && Number(pgrp) === pgid) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

function describe(pid: number): string {
  try {
    return `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\u0000').join(' ').trim()}`;
  } catch {
    return `${pid}: (gone)`;
  }
}

/** SIGKILLs whatever a failed test left (the group, then anything still naming the marker). */
export function killLeftovers(g: UpGrid | undefined, group: UpGroup | undefined): void {
  const targets = [...(group !== undefined ? [-group.pgid] : []), ...(g !== undefined ? pidsMentioning(g.marker) : [])];
  for (const t of targets) {
    try {
      process.kill(t, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * A storage-server that ignores SIGTERM, so an agent stopping it waits its whole stop grace (10 s
 * by default): a drain that is certainly still going when the test sends its next signal.
 */
export function stubbornStorageBinary(dir: string): string {
  const file = join(dir, 'stubborn-storage-server.mjs');
  const dist = join(REPO_ROOT, 'dist', 'runtime', 'storage');
  writeFileSync(
    file,
    `#!${process.execPath}
import { StorageServer } from ${JSON.stringify(join(dist, 'storage-server.js'))};
import { compileStorageFlags, parseStorageArgv } from ${JSON.stringify(join(dist, 'storage-options.js'))};
process.on('SIGTERM', () => {});
await StorageServer.start({ ...compileStorageFlags(parseStorageArgv(process.argv.slice(2))), token: undefined });
`,
  );
  chmodSync(file, 0o755);
  return file;
}
