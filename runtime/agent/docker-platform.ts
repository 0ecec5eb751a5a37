/**
 * The Docker platform: each storage node is a container run through the Docker Engine API. Like
 * the process platform it only starts, stops, watches and re-adopts instances; health checks,
 * restarts, events and capacity stay in the supervisor, so both platforms behave the same.
 */
import { closeSync, constants as fsConstants, fchownSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { ConfigError, RuntimeError } from '../errors.js';
import { sleep } from '../../client/transport.js';
import { silentLogger, type Logger } from '../common/logger.js';
import { checkLaunchSpec, containerCreateOptions, type ContainerSettings, type DockerNetworkMode } from './docker-container-spec.js';
import { engineMessage, isNotFound, spawnError, engineStatus } from './docker-errors.js';
import { DockerEventWatcher, type DieEvent } from './docker-events.js';
import { containerName, LABEL, specFromLabels } from './docker-labels.js';
import { makeNodeDir, type DirOwner } from './node-dir.js';
import { nodeToken } from './node-token.js';
import type { AdoptedNode, ExitInfo, ExitListener, NodeInstance, NodeLaunchSpec, NodePlatform } from './platform.js';

/** Options of {@link DockerPlatform.create}; the agent builds them from its config's `[docker]` table. */
export interface DockerPlatformOptions {
  /** Unix socket of the Docker Engine. */
  readonly socketPath: string;
  /** Image holding the bundled storage-server (the root Dockerfile's layout). */
  readonly image: string;
  readonly agentId: string;
  /** Grid name put on every container's `sutra.grid` label. @default 'default' */
  readonly grid?: string;
  /** The agent's data dir; platform files (the token copy) live under it. */
  readonly dataDir: string;
  /**
   * `host` (default): the node listens on 127.0.0.1 of the host, tokenless, exactly like a process
   * node. `bridge`: the node gets its own network namespace and its port is published on
   * `publishHost`; it then listens on 0.0.0.0 inside, which the storage-server only allows with a
   * token, so bridge mode needs `token` and nodes require it on storage calls.
   * @default 'host'
   */
  readonly network?: DockerNetworkMode;
  /** Host address ports are published on in bridge mode. @default '127.0.0.1' */
  readonly publishHost?: string;
  /**
   * The agent's control-plane token; mandatory in bridge mode, unused in host mode. Nodes never
   * get it: bridge-mode nodes require the token derived from it ({@link nodeToken}) on storage calls.
   */
  readonly token?: string;
  /**
   * The agent holds a certificate, so its nodes speak mutual TLS (their credential is mounted): a
   * bridged node may then listen on 0.0.0.0 inside its container without a token.
   * @default false
   */
  readonly tls?: boolean;
  /**
   * Numeric `uid` or `uid:gid` node containers run as (`[docker].user`). Default: the agent's own
   * uid:gid, or {@link DEFAULT_NODE_USER} (the image's `node` user) when the agent runs as root,
   * so a root agent never runs its nodes as root. A root agent hands each node's storage dir to
   * this user; an agent that is not root can only run nodes as itself.
   */
  readonly user?: string;
  readonly logger?: Logger;
}

/** The image's unprivileged `node` user (root Dockerfile, scripts/build-test-image.sh). */
export const DEFAULT_NODE_USER = '1000:1000';

/** The uid:gid nodes run as, and the owner to give their dirs when the agent (root) can. */
export function resolveNodeUser(configured: string | undefined): { user: string; owner: DirOwner | undefined } {
  const agentUid = process.getuid?.() ?? 0;
  const agentGid = process.getgid?.() ?? 0;
  if (configured === undefined) {
    if (agentUid !== 0) return { user: `${agentUid}:${agentGid}`, owner: undefined };
    configured = DEFAULT_NODE_USER;
  }
  const m = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(configured);
  if (m === null) throw new ConfigError('[docker].user', `expected a numeric "uid" or "uid:gid", got "${configured}"`);
  const uid = Number(m[1]);
  const gid = m[2] !== undefined ? Number(m[2]) : uid;
  if (uid > 0xfffffffe || gid > 0xfffffffe) throw new ConfigError('[docker].user', `"${configured}" is out of range`);
  if (agentUid !== 0) {
    if (uid !== agentUid) {
      throw new ConfigError('[docker].user', `the agent runs as uid ${agentUid}, not root, so it cannot give node directories to uid ${uid}; leave it unset or run the agent as root`);
    }
    return { user: `${uid}:${gid}`, owner: undefined };
  }
  return { user: `${uid}:${gid}`, owner: { uid, gid } };
}

/**
 * Writes the node-token file without following a link planted in its place, 0400 and owned by
 * the nodes' user (when the agent is root) so they can read it and nobody else can.
 */
function writeNodeTokenFile(path: string, token: string, owner: DirOwner | undefined): void {
  // A fresh file each start (unlink never follows a link): it is read-only once written, and an
  // older agent's file may hold the control-plane token itself. Running nodes keep the old inode.
  rmSync(path, { force: true });
  const fd = openSync(path, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o400);
  try {
    writeSync(fd, nodeToken(token));
    if (owner !== undefined) fchownSync(fd, owner.uid, owner.gid);
  } finally {
    closeSync(fd);
  }
}

/** What the platform knows about one node's current container. */
interface Tracked {
  readonly spec: NodeLaunchSpec;
  readonly containerId: string;
  instance: NodeInstance;
  /** Exits are held until start()/adopt() has handed the instance to the supervisor. */
  announced: Promise<void>;
  /** Set on the first die event; stop() waits on it so the exit is reported before stop resolves. */
  exited: Promise<ExitInfo>;
  exitSeen: boolean;
  resolveExited: (exit: ExitInfo) => void;
  /** True once the container is being discarded unannounced (failed start, not adoptable). */
  dropped: boolean;
}

const SIGNAL_NAMES = new Map<number, string>(Object.entries(osConstants.signals).map(([name, num]) => [num, name]));

/** The Engine reports a signal death as 128 + signal number, as a shell would. */
function exitInfoOf(exitCode: number | null): ExitInfo {
  if (exitCode !== null && exitCode > 128 && SIGNAL_NAMES.has(exitCode - 128)) {
    return { exitCode: null, signal: SIGNAL_NAMES.get(exitCode - 128) ?? null };
  }
  return { exitCode, signal: null };
}

/** Resolves true when nothing on this host listens on host:port. */
function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/** A {@link NodePlatform} running each node as a Docker container. Create with {@link DockerPlatform.create}. */
export class DockerPlatform implements NodePlatform {
  readonly name = 'docker' as const;
  private readonly byNode = new Map<string, Tracked>();
  private readonly byContainer = new Map<string, Tracked>();
  private readonly listeners: ExitListener[] = [];
  private readonly watcher: DockerEventWatcher;
  private readonly settings: ContainerSettings;
  private readonly logger: Logger;
  private readonly grid: string;
  /** Removals of exited containers still under way (see retire). */
  private readonly removals = new Set<Promise<void>>();

  private constructor(
    private readonly docker: Dockerode,
    private readonly opts: DockerPlatformOptions,
    tokenFile: string | undefined,
    user: string,
    private readonly owner: DirOwner | undefined,
  ) {
    this.logger = opts.logger ?? silentLogger;
    this.grid = opts.grid ?? 'default';
    this.settings = {
      image: opts.image,
      grid: this.grid,
      agentId: opts.agentId,
      network: opts.network ?? 'host',
      publishHost: opts.publishHost ?? '127.0.0.1',
      tokenFile,
      user,
    };
    this.watcher = new DockerEventWatcher(docker, {
      labels: this.ownLabels(),
      onDie: (ev) => this.onDie(ev),
      onLateOom: (containerId) => this.onLateOom(containerId),
      logger: this.logger,
    });
  }

  /**
   * Checks the options, reaches the Engine and subscribes to its events. Throws ConfigError naming
   * the `docker.*` key when the Engine is unreachable or the options cannot work together.
   */
  static async create(opts: DockerPlatformOptions): Promise<DockerPlatform> {
    const network = opts.network ?? 'host';
    if (network !== 'bridge' && network !== 'host') throw new ConfigError('[docker].network', `expected "bridge" or "host", got "${String(network)}"`);
    if (opts.image.trim() === '') throw new ConfigError('[docker].image', 'is required for platform "docker"');
    if (network === 'bridge' && opts.token === undefined && opts.tls !== true) {
      throw new ConfigError(
        '[docker].network',
        'bridge networking makes each storage-server listen on 0.0.0.0 inside its container, which needs a token or mutual TLS; give the agent a token, join the grid with --join, or set network = "host"',
      );
    }
    const { user, owner } = resolveNodeUser(opts.user);
    const docker = new Dockerode({ socketPath: opts.socketPath });
    try {
      await docker.ping();
    } catch (err) {
      throw new ConfigError('[docker].socket_path', `Docker Engine not reachable at ${opts.socketPath}: ${engineMessage(err)}`, { cause: err });
    }
    let tokenFile: string | undefined;
    if (network === 'bridge' && opts.token !== undefined) {
      // Bind-mounted read-only into each node. Under .agent/, which no node's storage path may reach.
      const dir = join(opts.dataDir, '.agent');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      tokenFile = join(dir, 'docker-node-token');
      writeNodeTokenFile(tokenFile, opts.token, owner);
    }
    const platform = new DockerPlatform(docker, opts, tokenFile, user, owner);
    await platform.watcher.start();
    return platform;
  }

  /** The user containers run as, when the agent (root) hands node files to it. */
  get nodeUser(): DirOwner | undefined {
    return this.owner;
  }

  /** Bridged nodes are reached where their ports are published; on the host's network, where they bind. */
  get nodeDialHost(): string | undefined {
    return this.settings.network === 'bridge' ? this.settings.publishHost : undefined;
  }

  /** The underlying Engine client (tests and the benchmark inspect containers through it). */
  get engine(): Dockerode {
    return this.docker;
  }

  onExit(listener: ExitListener): void {
    this.listeners.push(listener);
  }

  async start(spec: NodeLaunchSpec): Promise<NodeInstance> {
    checkLaunchSpec(spec);
    const current = this.byNode.get(spec.nodeId);
    if (current !== undefined && !(await this.hasExited(current))) {
      throw new RuntimeError('NODE_EXISTS', `node ${spec.nodeId}: its container is still running`, { nodeId: spec.nodeId });
    }
    // A crashed predecessor keeps its name until it is gone. Renaming it takes ~10 ms where a
    // removal takes 50-150 ms, so on the crash-to-running path it is renamed and removed behind.
    if (current !== undefined) {
      this.forget(current);
      await this.retire(current.containerId);
    } else {
      await this.removeContainer(containerName(this.opts.agentId, spec.nodeId));
    }

    const probeHost = this.settings.network === 'bridge' ? this.settings.publishHost : '127.0.0.1';
    if (!(await portIsFree(probeHost, spec.port))) {
      throw new RuntimeError('PORT_IN_USE', `port: ${spec.port} is already in use on ${probeHost}`, { field: 'port', nodeId: spec.nodeId });
    }
    // Created by us (not by the Engine as root), never through a planted symlink, and handed to
    // the nodes' user so the node can write it.
    makeNodeDir(this.opts.dataDir, spec.storagePath, spec.nodeId, this.owner);

    let container: Dockerode.Container;
    try {
      container = await this.docker.createContainer(containerCreateOptions(this.settings, spec));
    } catch (err) {
      throw spawnError(err, spec.nodeId, this.opts.socketPath, this.opts.image);
    }
    let announce!: () => void;
    const tracked = this.track(spec, container.id, new Promise<void>((r) => (announce = r)));
    try {
      await container.start();
      const info = await container.inspect();
      tracked.instance = { pid: info.State.Pid, containerId: container.id };
    } catch (err) {
      tracked.dropped = true;
      this.forget(tracked);
      await this.removeContainer(container.id);
      throw spawnError(err, spec.nodeId, this.opts.socketPath, this.opts.image);
    }
    this.logger.info({ nodeId: spec.nodeId, containerId: container.id, pid: tracked.instance.pid }, 'node container started');
    // Any exit that raced the start is delivered after the supervisor has the instance.
    setImmediate(announce);
    return tracked.instance;
  }

  async stop(nodeId: string, graceMs: number): Promise<void> {
    const tracked = this.byNode.get(nodeId);
    const ref = tracked?.containerId ?? containerName(this.opts.agentId, nodeId);
    const container = this.docker.getContainer(ref);
    try {
      // `docker stop -t`: SIGTERM, then SIGKILL once the grace period (whole seconds) is over.
      await container.stop({ t: Math.ceil(Math.max(0, graceMs) / 1000) });
    } catch (err) {
      // 304: already stopped; 404: already gone. Both mean there is nothing left to stop.
      const status = engineStatus(err);
      if (status !== 304 && status !== 404) {
        throw new RuntimeError('INTERNAL', `node ${nodeId}: docker stop failed: ${engineMessage(err)}`, { nodeId }, { cause: err });
      }
    }
    if (tracked !== undefined) {
      // Report the exit before resolving, like the process platform; the event is normally in already.
      const ac = new AbortController();
      await Promise.race([tracked.exited, sleep(2_000, ac.signal).catch(() => undefined)]);
      ac.abort();
    }
    await this.removeContainer(ref);
    if (tracked !== undefined) this.forget(tracked);
  }

  async adopt(): Promise<AdoptedNode[]> {
    const found = await this.docker.listContainers({ all: true, filters: { label: this.ownLabels() } });
    const adopted: AdoptedNode[] = [];
    let announce!: () => void;
    const announced = new Promise<void>((r) => (announce = r));
    for (const c of found) {
      const spec = specFromLabels(c.Labels);
      const owned = spec !== undefined && c.Names.includes(`/${containerName(this.opts.agentId, spec.nodeId)}`);
      if (!owned || c.State !== 'running' || this.byNode.has(spec.nodeId)) {
        this.logger.info({ containerId: c.Id, names: c.Names, state: c.State }, 'removing a container this agent no longer owns');
        await this.removeContainer(c.Id);
        continue;
      }
      // Tracked before the inspect, so an exit from now on is caught by the event watcher.
      const tracked = this.track(spec, c.Id, announced);
      try {
        const info = await this.docker.getContainer(c.Id).inspect();
        if (!info.State.Running) throw new Error(`state ${info.State.Status}`);
        tracked.instance = { pid: info.State.Pid, containerId: c.Id };
        // The container's own start, not the adoption: a stale copy must not look newer than its replacement.
        const startedAtMs = Date.parse(info.State.StartedAt);
        adopted.push({ spec, instance: tracked.instance, ...(Number.isFinite(startedAtMs) && startedAtMs > 0 ? { startedAtMs } : {}) });
      } catch (err) {
        this.logger.info({ containerId: c.Id, err: engineMessage(err) }, 'container exited while being adopted; removing it');
        tracked.dropped = true;
        this.forget(tracked);
        await this.removeContainer(c.Id);
      }
    }
    setImmediate(announce);
    return adopted;
  }

  /** Stops watching events; containers keep running (the supervisor stops them first when it means to). */
  async close(): Promise<void> {
    await Promise.all(this.removals);
    await this.watcher.close();
    this.listeners.length = 0;
  }

  private ownLabels(): string[] {
    return [`${LABEL.agent}=${this.opts.agentId}`, `${LABEL.grid}=${this.grid}`];
  }

  private track(spec: NodeLaunchSpec, containerId: string, announced: Promise<void>): Tracked {
    let resolveExited!: (exit: ExitInfo) => void;
    const exited = new Promise<ExitInfo>((r) => (resolveExited = r));
    const tracked: Tracked = { spec, containerId, instance: { pid: 0, containerId }, announced, exited, resolveExited, exitSeen: false, dropped: false };
    this.byNode.set(spec.nodeId, tracked);
    this.byContainer.set(containerId, tracked);
    return tracked;
  }

  private forget(tracked: Tracked): void {
    if (this.byNode.get(tracked.spec.nodeId) === tracked) this.byNode.delete(tracked.spec.nodeId);
    this.byContainer.delete(tracked.containerId);
  }

  /** The `oom` of a container that was reported gone already: the log says why it died. */
  private onLateOom(containerId: string): void {
    const tracked = this.byContainer.get(containerId);
    this.logger.warn(
      { containerId, ...(tracked !== undefined ? { nodeId: tracked.spec.nodeId, memoryMb: tracked.spec.memoryMb } : {}) },
      tracked !== undefined
        ? `node ${tracked.spec.nodeId} ran out of memory: killed at its ${tracked.spec.memoryMb} MB limit (memory_mb)`
        : `container ${containerId.slice(0, 12)} ran out of memory: killed at its limit (memory_mb)`,
    );
  }

  private onDie(ev: DieEvent): void {
    const tracked = this.byContainer.get(ev.containerId);
    if (tracked === undefined) return;
    const exit = exitInfoOf(ev.exitCode);
    tracked.exitSeen = true;
    tracked.resolveExited(exit);
    void tracked.announced.then(() => {
      if (tracked.dropped) return;
      if (ev.oomKilled) {
        // ExitInfo can only say SIGKILL; the log says why, with the limit to raise.
        this.logger.warn(
          { nodeId: tracked.spec.nodeId, containerId: ev.containerId, memoryMb: tracked.spec.memoryMb },
          `node ${tracked.spec.nodeId} ran out of memory: killed at its ${tracked.spec.memoryMb} MB limit (memory_mb)`,
        );
      } else {
        this.logger.info({ nodeId: tracked.spec.nodeId, containerId: ev.containerId, ...exit }, 'node container exited');
      }
      for (const listener of this.listeners) {
        try {
          listener(tracked.spec.nodeId, tracked.instance, exit);
        } catch (err) {
          this.logger.error({ err, nodeId: tracked.spec.nodeId }, 'exit listener threw');
        }
      }
    });
  }

  /** True once the container's die event came in, or the Engine says it is not running. */
  private async hasExited(tracked: Tracked): Promise<boolean> {
    if (tracked.exitSeen) return true;
    try {
      return !(await this.docker.getContainer(tracked.containerId).inspect()).State.Running;
    } catch (err) {
      if (isNotFound(err)) return true;
      throw err;
    }
  }

  /**
   * Frees an exited container's name at once and removes it in the background. If the removal
   * fails, the renamed container no longer matches its node's name, so the next adopt() removes it.
   */
  private async retire(containerId: string): Promise<void> {
    try {
      await this.docker.getContainer(containerId).rename({ name: `${containerName(this.opts.agentId, 'exited')}-${containerId.slice(0, 12)}` });
    } catch (err) {
      if (isNotFound(err)) return;
      // Could not rename (e.g. a removal already in flight): fall back to waiting for the removal.
      await this.removeContainer(containerId);
      return;
    }
    const removal = this.removeContainer(containerId)
      .catch((err: unknown) => this.logger.warn({ containerId, err: engineMessage(err) }, 'removing an exited node container failed'))
      .finally(() => this.removals.delete(removal));
    this.removals.add(removal);
  }

  /** Force-removes a container (and its anonymous volumes); already gone is fine. */
  private async removeContainer(ref: string): Promise<void> {
    try {
      await this.docker.getContainer(ref).remove({ force: true, v: true });
    } catch (err) {
      // 404: gone already. 409: a removal is already in progress, which ends the same way.
      const status = engineStatus(err);
      if (status !== 404 && status !== 409) {
        throw new RuntimeError('INTERNAL', `container ${ref}: removal failed: ${engineMessage(err)}`, {}, { cause: err });
      }
    }
  }
}
