import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { accessSync, closeSync, constants, readFileSync } from 'node:fs';
import { ConfigError, RuntimeError } from '../errors.js';
import type { Logger } from '../common/logger.js';
import type { AdoptedNode, ExitInfo, ExitListener, NodeInstance, NodeLaunchSpec, NodePlatform } from './platform.js';
import { NodeStateFiles } from './node-state-files.js';
import { makeNodeDir, openNodeLog } from './node-dir.js';
import { ownsListener } from './port-owner.js';
import { replicationArgs } from './replication-assignment.js';
import { READY_FD_ENV, READY_LINE } from '../storage/ready-notify.js';

/** The descriptor of the readiness pipe in a node (the first after stdin, stdout and stderr). */
const READY_FD = 3;

/** How the process platform runs the storage server. */
export interface ProcessPlatformOptions {
  /** Agent data dir; node state files live under `<dataPath>/.agent/nodes`. */
  readonly dataPath: string;
  /**
   * Executable from the agent's config. Undefined runs the bundled storage-server:
   * `process.execPath <bundledEntry>`. Never taken from a request.
   */
  readonly binaryPath: string | undefined;
  /** Script of the bundled storage-server, used when `binaryPath` is undefined. */
  readonly bundledEntry: string;
  readonly logger: Logger;
  /** Liveness poll of adopted nodes (ms). @default 250 */
  readonly adoptPollMs?: number;
}

interface Running {
  readonly spec: NodeLaunchSpec;
  readonly pid: number;
  /** Our child; undefined for an adopted process (not our child: no exit event). */
  readonly child: ChildProcess | undefined;
  readonly exited: Promise<ExitInfo>;
  poll?: NodeJS.Timeout;
}

/** True when `pid` exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else (then it cannot be ours either).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // A zombie still answers kill(0); its state letter after the `(comm)` field is Z.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

function cmdlineOf(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return undefined;
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // Negative pid = the whole process group: the node and anything it forked.
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Resolves when the node writes its ready line on the readiness pipe (ready-notify.ts); stays
 * pending when the pipe closes without it (a binary that ignores the pipe, a node that exited).
 * The agent's end is closed either way, so a node's pipe lives no longer than its start.
 */
function readyOf(child: ChildProcess): Promise<void> {
  const pipe = child.stdio[READY_FD] as Readable | null | undefined;
  if (!pipe) return new Promise<void>(() => {});
  return new Promise<void>((resolve) => {
    let got = '';
    const done = (): void => {
      pipe.removeAllListeners('data');
      pipe.destroy();
    };
    pipe.on('data', (chunk: Buffer) => {
      got += chunk.toString('latin1');
      if (got.includes(READY_LINE)) {
        done();
        resolve();
      } else if (got.length > 64) done(); // not our protocol: stop reading
    });
    pipe.once('end', done);
    pipe.on('error', done);
  });
}

/**
 * NodePlatform that runs each node as a local process: no shell, its own process group, output to
 * `<storagePath>/node.log`. Exits of our children are seen from their 'exit' event at once.
 */
export class ProcessPlatform implements NodePlatform {
  readonly name = 'process' as const;
  private readonly running = new Map<string, Running>();
  private readonly listeners: ExitListener[] = [];
  private readonly state: NodeStateFiles;

  /** @throws ConfigError naming `[storage].binary_path` when the configured binary cannot be run. */
  constructor(private readonly opts: ProcessPlatformOptions) {
    if (opts.binaryPath !== undefined) {
      try {
        accessSync(opts.binaryPath, constants.X_OK);
      } catch {
        throw new ConfigError('[storage].binary_path', `${opts.binaryPath} is not an executable file`);
      }
    }
    this.state = new NodeStateFiles(opts.dataPath);
  }

  /** argv (command first) a node is started with. */
  argvFor(spec: NodeLaunchSpec): string[] {
    const args = ['--port', String(spec.port), '--storage-path', spec.storagePath, '--memory', String(spec.memoryMb), ...replicationArgs(spec)];
    // Paths only: the credential itself never travels in argv or env.
    if (spec.host !== undefined && spec.host !== '127.0.0.1') args.push('--host', spec.host);
    if (spec.tlsDir !== undefined) args.push('--tls-dir', spec.tlsDir, ...(spec.agentId !== undefined ? ['--agent-id', spec.agentId] : []));
    return this.opts.binaryPath !== undefined ? [this.opts.binaryPath, ...args] : [process.execPath, this.opts.bundledEntry, ...args];
  }

  async start(spec: NodeLaunchSpec): Promise<NodeInstance> {
    if (this.running.has(spec.nodeId)) throw new RuntimeError('NODE_EXISTS', `node "${spec.nodeId}" is already running`, { nodeId: spec.nodeId });
    // Neither the directories nor node.log are followed through a symlink a node planted.
    makeNodeDir(this.opts.dataPath, spec.storagePath, spec.nodeId);
    const argv = this.argvFor(spec);
    const logFd = openNodeLog(spec.storagePath, spec.nodeId, this.opts.logger);
    let child: ChildProcess;
    try {
      const env = { ...process.env };
      // The workload has no business with the control plane's secret.
      delete env['SUTRA_GRID_TOKEN'];
      // Our own storage-server says when it serves (ready-notify.ts); a configured binary may not
      // know the protocol, and waiting for its word would only delay its health polling.
      const notifies = this.opts.binaryPath === undefined;
      if (notifies) env[READY_FD_ENV] = String(READY_FD);
      child = spawn(argv[0]!, argv.slice(1), { shell: false, detached: true, stdio: notifies ? ['ignore', logFd, logFd, 'pipe'] : ['ignore', logFd, logFd], env });
    } finally {
      closeSync(logFd);
    }
    const pid = child.pid;
    if (pid === undefined) {
      const err = await new Promise<Error>((resolve) => child.once('error', resolve));
      throw new RuntimeError('SPAWN_FAILED', `node "${spec.nodeId}": cannot start ${argv[0]}: ${err.message}`, { nodeId: spec.nodeId }, { cause: err });
    }
    const exited = new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => {
        const exit: ExitInfo = { exitCode: code, signal };
        this.onGone(spec.nodeId, pid, exit);
        resolve(exit);
      });
    });
    child.on('error', (err) => this.opts.logger.warn({ nodeId: spec.nodeId, err: err.message }, 'node process error'));
    this.running.set(spec.nodeId, { spec, pid, child, exited });
    this.state.write({ spec, pid, argv, startedAtMs: Date.now() });
    return this.opts.binaryPath === undefined ? { pid, ready: readyOf(child) } : { pid };
  }

  private onGone(nodeId: string, pid: number, exit: ExitInfo): void {
    const r = this.running.get(nodeId);
    if (r === undefined || r.pid !== pid) return;
    if (r.poll) clearInterval(r.poll);
    this.running.delete(nodeId);
    this.state.remove(nodeId);
    for (const l of this.listeners) l(nodeId, { pid }, exit);
  }

  async stop(nodeId: string, graceMs: number): Promise<void> {
    const r = this.running.get(nodeId);
    if (r === undefined) return;
    killGroup(r.pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    const outcome = await Promise.race([r.exited, graceOver]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.opts.logger.warn({ nodeId, pid: r.pid, graceMs }, 'node ignored SIGTERM; sending SIGKILL');
      killGroup(r.pid, 'SIGKILL');
      await r.exited;
    }
    // Anything the node forked that outlived it dies with the group.
    killGroup(r.pid, 'SIGKILL');
  }

  onExit(listener: ExitListener): void {
    this.listeners.push(listener);
  }

  /** Whether the node's process (or one it forked) is what listens on `port`; undefined without /proc. */
  listensOn(nodeId: string, port: number): boolean | undefined {
    const r = this.running.get(nodeId);
    if (r === undefined) return false;
    return ownsListener(r.pid, port);
  }

  /**
   * Re-adopts nodes a previous agent process left running: the pid must be alive AND its
   * /proc/<pid>/cmdline must equal what we launched (a recycled pid is not our node). Stale records
   * are dropped. Adopted processes are not our children, so no 'exit' event will ever come for
   * them and waitpid is not available: their death is detected by polling `kill(pid, 0)`.
   */
  async adopt(): Promise<AdoptedNode[]> {
    const out: AdoptedNode[] = [];
    for (const rec of this.state.readAll()) {
      const cmd = cmdlineOf(rec.pid);
      const same = cmd !== undefined && cmd.length === rec.argv.length && cmd.every((a, i) => a === rec.argv[i]);
      if (this.running.has(rec.spec.nodeId) || !same || !pidAlive(rec.pid)) {
        if (!this.running.has(rec.spec.nodeId)) this.state.remove(rec.spec.nodeId);
        continue;
      }
      const pid = rec.pid;
      const nodeId = rec.spec.nodeId;
      let resolveExit!: (e: ExitInfo) => void;
      const exited = new Promise<ExitInfo>((resolve) => (resolveExit = resolve));
      const entry: Running = { spec: rec.spec, pid, child: undefined, exited };
      entry.poll = setInterval(() => {
        if (pidAlive(pid)) return;
        // The exit status went to whoever reaped it (init), so it is unknown here.
        const exit: ExitInfo = { exitCode: null, signal: null };
        this.onGone(nodeId, pid, exit);
        resolveExit(exit);
      }, this.opts.adoptPollMs ?? 250);
      entry.poll.unref();
      this.running.set(nodeId, entry);
      out.push({ spec: rec.spec, instance: { pid }, ...(rec.startedAtMs > 0 ? { startedAtMs: rec.startedAtMs } : {}) });
    }
    return out;
  }

  /** Stops watching; leaves processes running (the supervisor stops them first when it means to). */
  async close(): Promise<void> {
    for (const r of this.running.values()) if (r.poll) clearInterval(r.poll);
    this.listeners.length = 0;
  }
}
