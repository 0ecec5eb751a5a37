import { randomUUID } from 'node:crypto';
import { GridError, RuntimeError } from '../errors.js';
import { sleep } from '../../client/transport.js';
import type { Logger } from '../common/logger.js';
import type { ExitInfo, NodeInstance, NodeLaunchSpec, NodePlatform } from './platform.js';
import { HealthProbe } from './health-probe.js';
import { startLiveness, waitOwnServing } from './node-liveness.js';
import { EXIT_PORT_TAKEN } from '../storage/exit-codes.js';
import { NodePorts } from './node-ports.js';
import type { RestartPolicyOptions } from './restart-policy.js';
import { describeExit, newNodeRecord, nodeView, NODE_EVENT_SEVERITY, SETTLED, type NodeRecord } from './node-record.js';
import { checkNodeId, checkPortRange, checkStoragePathOverlap, portFree, resolveStoragePath } from './spawn-checks.js';
import { checkConfigure, checkSpawnReplication, isReplicated } from './replication-assignment.js';
import { ReplicationReader } from './node-replication.js';
import { LeaseKeeper } from './lease-keeper.js';
import type { ConfigureRequest, NodeEvent, NodeEventType, NodeStatus, NodeView, SpawnRequest } from '../common/grid-types.js';
import { nodeDialAddress, type NodeEventSink, type SupervisorOptions } from './node-types.js';

/**
 * Moves to another port in a row (no run reaching `running` between them) before a taken port counts
 * as a crash after all: a node that keeps losing every port it gets is not a port clash any more.
 */
const MAX_PORT_MOVES = 8;

/** Start errors no restart can fix (bad request or config): reported at once, not retried. */
const RETRYABLE_START: ReadonlySet<string> = new Set(['SPAWN_FAILED', 'INTERNAL']);

/**
 * Owns every node of the agent: request checks, start, health, restart policy, stop and events.
 * Platform-agnostic: where nodes run is the NodePlatform's business.
 */
export class NodeSupervisor {
  private readonly nodes = new Map<string, NodeRecord>();
  private readonly ports: NodePorts;
  /** The restart policy in force: the agent's config, until the grid's policy replaces it. */
  private restartOptions: RestartPolicyOptions;
  private readonly replication: ReplicationReader;
  private readonly leases: LeaseKeeper;

  constructor(
    private readonly platform: NodePlatform,
    private readonly opts: SupervisorOptions,
    private readonly logger: Logger,
    private readonly onEvent: NodeEventSink = () => {},
  ) {
    this.restartOptions = opts.restart;
    this.replication = new ReplicationReader(opts.nodeToken, opts.healthCheckIntervalMs, logger, opts);
    this.leases = new LeaseKeeper(this.replication, logger);
    this.ports = new NodePorts({ start: opts.portRangeStart, size: opts.portRangeSize }, opts.agentId, () =>
      [...this.nodes.values()].map((r) => ({ nodeId: r.spec.nodeId, port: r.spec.port })),
    );
    platform.onExit((nodeId, instance, exit) => this.onExit(nodeId, instance, exit));
  }

  private view(r: NodeRecord): NodeView {
    this.leases.sweep(r);
    return nodeView(r, this.opts.agentId);
  }

  /**
   * The master answered a call the agent sent at `sentAtMs` (monotonic): the grid leaders' write
   * leases are renewed from it (lease-keeper.ts).
   */
  masterAnswered(sentAtMs: number, offlineAfterMs: number | undefined): void {
    this.leases.answered(sentAtMs, offlineAfterMs, this.nodes.values());
  }

  private emit(r: NodeRecord, type: NodeEventType, payload: Record<string, unknown>, message: string): void {
    const event: NodeEvent = { type, severity: NODE_EVENT_SEVERITY[type], nodeId: r.spec.nodeId, cluster: r.spec.cluster, timestampUs: Date.now() * 1000, payload, message };
    this.logger[event.severity === 'info' ? 'info' : 'warn']({ nodeId: r.spec.nodeId, event: type, ...payload }, message);
    try {
      this.onEvent(event);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'node event sink threw');
    }
  }

  private setStatus(r: NodeRecord, status: NodeStatus): void {
    r.status = status;
    for (const w of [...r.waiters]) w();
  }

  /** Resolves once the node is running, failed or being stopped. */
  private settled(r: NodeRecord): Promise<void> {
    if (SETTLED.has(r.status)) return Promise.resolve();
    return new Promise((resolve) => {
      const w = (): void => {
        if (!SETTLED.has(r.status)) return;
        r.waiters.delete(w);
        resolve();
      };
      r.waiters.add(w);
    });
  }

  /** Switches every node, existing and future, to a new restart policy; their restart counts carry over. */
  setRestartPolicy(opts: RestartPolicyOptions): void {
    this.restartOptions = opts;
    for (const r of this.nodes.values()) r.policy.update(opts);
  }

  /** Every node, in spawn order. */
  list(): NodeView[] {
    return [...this.nodes.values()].map((r) => this.view(r));
  }

  /** One node. @throws GridError NODE_NOT_FOUND */
  get(nodeId: string): NodeView {
    return this.view(this.record(nodeId));
  }

  /** One node, its replication read afresh when it runs with a replication role. @throws GridError NODE_NOT_FOUND */
  async status(nodeId: string): Promise<NodeView> {
    const r = this.record(nodeId);
    if (r.status === 'running') await this.replication.read(r, true);
    return this.view(r);
  }

  /**
   * Changes a leader's or replica's role, leader, term or durability: relayed to the node's SetRole
   * when it runs, and kept in its record either way, so a restart starts it with these values. A
   * refusal of the node (a term below its own) leaves the record as it was.
   * @throws GridError NODE_NOT_FOUND, INVALID_ARGUMENT naming the field, NOT_REPLICATED, or the node's refusal
   */
  async configure(req: ConfigureRequest): Promise<NodeView> {
    const r = this.record(req.nodeId);
    const next = checkConfigure(req, { role: r.spec.role, replication: r.spec.replication });
    const handOverMs = req.handOverMs ?? 0;
    if (handOverMs > 0) {
      // A handover is a moment of the running node, not a setting: the record keeps its role.
      if (r.status !== 'running') throw new RuntimeError('NODE_NOT_RUNNING', `node "${req.nodeId}" is ${r.status}: only a running leader hands over`, { nodeId: req.nodeId });
      await this.replication.setRole(r, { role: 'leader', leader: '', term: next.term, durability: '', syncQuorum: 0, handOverMs });
      return this.view(r);
    }
    if (r.status === 'running') {
      const role = req.role as 'leader' | 'replica';
      await this.replication.setRole(r, { role, leader: next.leaderAddress, term: next.term, durability: next.durability, syncQuorum: next.syncQuorum });
    }
    r.spec = { ...r.spec, role: req.role, replication: next };
    this.leases.confirmed(r);
    return this.view(r);
  }

  private record(nodeId: string): NodeRecord {
    const r = this.nodes.get(nodeId);
    if (r === undefined) throw new RuntimeError('NODE_NOT_FOUND', `node "${nodeId}" not found on agent ${this.opts.agentId}`, { nodeId, agentId: this.opts.agentId });
    return r;
  }

  /**
   * Spawns a node and resolves once it is running (answers its health check). Idempotent: the same
   * id with the same spec returns the existing node. A node that crashes while starting is
   * restarted per the policy; if it ends `failed`, this throws SPAWN_FAILED (the node stays listed
   * as failed until stopped).
   */
  async spawn(req: SpawnRequest): Promise<NodeView> {
    const nodeId = req.nodeId === '' ? `node-${randomUUID().slice(0, 8)}` : req.nodeId;
    checkNodeId(nodeId);
    if (req.port !== 0) checkPortRange(req.port, nodeId);
    const storagePath = resolveStoragePath(this.opts.dataPath, req.storagePath, nodeId);
    const memoryMb = req.memoryMb === 0 ? this.opts.defaultMemoryMb : req.memoryMb;
    const replication = checkSpawnReplication(req, nodeId);

    const existing = this.nodes.get(nodeId);
    if (existing !== undefined && existing.status !== 'failed') {
      // Role (leader or replica) and replication settings change live (ConfigureNode): not compared.
      const s = existing.spec;
      const same =
        (req.port === 0 || req.port === s.port) && memoryMb === s.memoryMb && storagePath === s.storagePath &&
        req.cluster === s.cluster && sameRole(req.role, s.role) && req.generation === s.generation && existing.status !== 'stopping';
      if (!same) throw new RuntimeError('NODE_EXISTS', `node "${nodeId}" already exists on agent ${this.opts.agentId} with a different spec`, { nodeId, field: 'node_id' });
      return this.awaitOutcome(existing);
    }
    if (existing !== undefined) this.nodes.delete(nodeId); // a failed node is replaced by a fresh spawn

    const active = [...this.nodes.values()];
    for (const r of active) {
      if (req.port !== 0 && r.spec.port === req.port) throw new RuntimeError('PORT_IN_USE', `port ${req.port} is in use by node "${r.spec.nodeId}"`, { nodeId, field: 'port' });
    }
    checkStoragePathOverlap(storagePath, nodeId, active.map((r) => r.spec));
    if (active.length >= this.opts.maxNodes) {
      throw new RuntimeError('CAPACITY_EXCEEDED', `agent ${this.opts.agentId} is at capacity: ${active.length} of ${this.opts.maxNodes} nodes`, { nodeId, field: 'max_storage_nodes' });
    }
    const usedMemory = active.reduce((sum, r) => sum + r.spec.memoryMb, 0);
    if (this.opts.maxMemoryMb > 0 && usedMemory + memoryMb > this.opts.maxMemoryMb) {
      throw new RuntimeError(
        'CAPACITY_EXCEEDED',
        `memory_mb ${memoryMb} exceeds agent ${this.opts.agentId}'s free memory (${this.opts.maxMemoryMb - usedMemory} of ${this.opts.maxMemoryMb} MB)`,
        { nodeId, field: 'memory_mb' },
      );
    }
    // The record claims the id and capacity at once (synchronously), before any await.
    const spec: NodeLaunchSpec = { nodeId, port: req.port, memoryMb, storagePath, cluster: req.cluster, role: req.role, generation: req.generation, replication };
    const rec = newNodeRecord(spec, this.restartOptions);
    rec.portPinned = req.port !== 0;
    this.nodes.set(nodeId, rec);
    try {
      const port = rec.portPinned ? await this.ports.checkFree(req.port, nodeId) : await this.ports.pick(nodeId);
      rec.spec = { ...spec, port };
    } catch (err) {
      this.nodes.delete(nodeId);
      throw err;
    }
    void this.launch(rec, false);
    return this.awaitOutcome(rec);
  }

  private async awaitOutcome(r: NodeRecord): Promise<NodeView> {
    await this.settled(r);
    if (r.rejected !== undefined) throw r.rejected;
    if (r.status === 'failed') {
      throw new RuntimeError('SPAWN_FAILED', `node "${r.spec.nodeId}" failed to start: ${r.lastExit || 'unknown error'} (after ${r.restarts} restarts)`, {
        nodeId: r.spec.nodeId,
      });
    }
    return this.view(r);
  }

  /** Starts the current run of a node and drives it to running (or hands a failure to onCrash). */
  private async launch(r: NodeRecord, isRestart: boolean): Promise<void> {
    const ac = new AbortController();
    r.abort = ac;
    r.killReason = undefined;
    r.launchedAt = Date.now();
    r.runServing = false;
    r.runIsRestart = isRestart;
    this.replication.resetRun(r);
    // The port was free when the node got it, but a crashed node's port may have been taken since.
    if (isRestart && !r.portPinned) {
      const free = await portFree(r.spec.port);
      if (ac.signal.aborted) return; // stopped meanwhile
      if (!free) {
        this.onPortTaken(r, { exitCode: null, signal: null }, 'before restart');
        return;
      }
    }
    let instance: NodeInstance;
    try {
      // A node under TLS starts with a certificate not past half its life (its agent renews it from then on).
      const tlsDir = this.opts.nodeTls === undefined ? undefined : await this.opts.nodeTls.ensure(r.spec.nodeId);
      if (ac.signal.aborted) return;
      const net = { ...(this.opts.nodeHost !== undefined ? { host: this.opts.nodeHost } : {}), ...(tlsDir !== undefined ? { tlsDir, agentId: this.opts.agentId } : {}) };
      const starting = this.platform.start({ ...r.spec, ...net, writeLeaseUntilMs: this.leases.launchUntilMs(r) });
      r.starting = starting;
      instance = await starting;
    } catch (err) {
      if (ac.signal.aborted) return;
      if (err instanceof GridError && err.code === 'PORT_IN_USE') {
        // A platform that checks the port itself (docker) refused it: the same clash as a failed bind.
        this.onPortTaken(r, { exitCode: null, signal: null }, 'at start');
        return;
      }
      if (!isRestart && err instanceof GridError && !RETRYABLE_START.has(err.code)) {
        // Memory below the minimum or an unknown image: the caller gets the original code and field.
        r.rejected = err;
        r.lastExit = `start refused: ${err.message}`;
        this.nodes.delete(r.spec.nodeId);
        this.emit(r, 'SpawnFailed', { reason: err.message }, `node ${r.spec.nodeId} not started: ${err.message}`);
        this.setStatus(r, 'failed');
        return;
      }
      r.lastExit = `start failed: ${(err as Error).message}`;
      this.onCrash(r, { exitCode: null, signal: null }, r.lastExit);
      return;
    }
    // An exit seen before start() resolved has already been handled as a crash of this run.
    if (ac.signal.aborted) return;
    r.pid = instance.pid;
    r.containerId = instance.containerId ?? '';
    r.startedAtMs = Date.now();
    await this.probeToRunning(r, ac, isRestart ? 'restart' : 'spawn', instance.ready);
  }

  /** `ready`: the instance's readiness notification, when its platform gives one (platform.ts). */
  private async probeToRunning(r: NodeRecord, ac: AbortController, kind: 'spawn' | 'restart' | 'adopt', ready?: Promise<void>): Promise<void> {
    const every = this.opts.healthCheckIntervalMs;
    r.probe ??= new HealthProbe(nodeDialAddress(this.opts, r.spec.port), this.opts.nodeTls?.dial(r.spec.nodeId, HealthProbe.channelOptions(every)), every);
    let serving: boolean;
    try {
      serving = await waitOwnServing(r, this.platform, this.opts, ac.signal, ready);
    } catch {
      return; // aborted: the run ended (crash or stop) and whoever ended it owns the state
    }
    if (ac.signal.aborted) return;
    if (!serving) {
      r.killReason = `start timeout: not SERVING within ${this.opts.startTimeoutMs} ms`;
      void this.platform.stop(r.spec.nodeId, 0);
      return;
    }
    // The first report of a leader or replica says where it stands (a new replica is catching up).
    await this.replication.read(r);
    if (ac.signal.aborted) return;
    const durationMs = Date.now() - r.launchedAt;
    r.everRan = true;
    r.runServing = true;
    r.portMoves = 0;
    this.setStatus(r, 'running');
    // A leader launched before the master had answered this agent (its flag grants no lease), or
    // while it was still starting when the answer came, is granted one now, not a heartbeat later.
    void this.leases.renew(r);
    if (kind === 'restart') this.emit(r, 'NodeRestarted', { restartCount: r.restarts, newPid: r.pid }, `node ${r.spec.nodeId} restarted (restart #${r.restarts}, pid ${r.pid})`);
    else if (kind === 'spawn') this.emit(r, 'SpawnSucceeded', { pid: r.pid, port: r.spec.port, durationMs }, `node ${r.spec.nodeId} running (pid ${r.pid}, port ${r.spec.port}) in ${durationMs} ms`);
    startLiveness(r, ac, this.platform, this.opts, this.logger);
    this.replication.start(r, ac.signal);
  }

  private endRun(r: NodeRecord): void {
    r.abort.abort();
    this.replication.stop(r);
    if (r.liveness) clearInterval(r.liveness);
    r.liveness = undefined;
    r.pid = 0;
  }

  private onExit(nodeId: string, instance: NodeInstance, exit: ExitInfo): void {
    const r = this.nodes.get(nodeId);
    // An exit of an older instance (already replaced) is not news.
    if (r === undefined || (r.pid !== 0 && instance.pid !== r.pid)) return;
    const reason = r.killReason ?? describeExit(exit);
    r.lastExit = reason;
    if (r.stopRequested) return; // the stop flow owns this exit
    if (r.killReason === undefined && exit.exitCode === EXIT_PORT_TAKEN) {
      this.onPortTaken(r, exit, `exit code ${EXIT_PORT_TAKEN}`);
      return;
    }
    if (r.killReason !== undefined || r.runServing || exit.exitCode === null || exit.exitCode === 0) {
      this.onCrash(r, exit, reason);
      return;
    }
    // A run that failed before serving, without saying why (a custom binary): if someone else holds
    // its port now, that is why.
    this.endRun(r);
    const ac = new AbortController();
    r.abort = ac;
    void portFree(r.spec.port).then((free) => {
      if (ac.signal.aborted || r.stopRequested) return;
      if (free) this.onCrash(r, exit, reason);
      else this.onPortTaken(r, exit, `${reason} while the port was held by another process`);
    });
  }

  /**
   * The node's port is held by another process: not a crash, so no restart is counted. A port the
   * agent chose moves to another free port of the range and the node starts again at once, reported
   * as its new port (heartbeats carry it to the master) and a NodePortMoved event saying why. A port
   * the spawn request named is never moved: the spawn fails with PORT_IN_USE, or, for a node that
   * ran before, the exit counts as a crash (the holder may go away before the restarts run out).
   */
  private onPortTaken(r: NodeRecord, exit: ExitInfo, how: string): void {
    const from = r.spec.port;
    const taken = `port ${from} taken by another process`;
    if (r.portPinned) {
      if (r.everRan || r.restarts > 0) {
        r.lastExit = `${taken} (the port was requested explicitly, so the node is not moved)`;
        this.onCrash(r, exit, r.lastExit);
        return;
      }
      this.endRun(r);
      r.rejected = new RuntimeError('PORT_IN_USE', `port ${from} is in use`, { nodeId: r.spec.nodeId, field: 'port' });
      r.lastExit = taken;
      this.nodes.delete(r.spec.nodeId);
      this.emit(r, 'SpawnFailed', { reason: taken }, `node ${r.spec.nodeId} not started: ${taken}`);
      this.setStatus(r, 'failed');
      return;
    }
    if (r.portMoves >= MAX_PORT_MOVES) {
      r.lastExit = `${taken} (${r.portMoves} moves in a row found no port that stayed free)`;
      this.onCrash(r, exit, r.lastExit);
      return;
    }
    this.endRun(r);
    if (r.status === 'running') this.setStatus(r, 'restarting');
    this.logger.info({ nodeId: r.spec.nodeId, port: from, detectedBy: how }, `node ${r.spec.nodeId}: ${taken}; moving it`);
    const ac = new AbortController();
    r.abort = ac;
    this.ports.pick(r.spec.nodeId, from).then(
      (to) => {
        if (ac.signal.aborted || r.stopRequested) return;
        r.portMoves++;
        r.spec = { ...r.spec, port: to };
        r.probe?.close();
        r.probe = undefined;
        this.replication.closeControl(r);
        r.lastExit = `${taken}, moved to ${to}`;
        this.emit(r, 'NodePortMoved', { fromPort: from, toPort: to, reason: taken }, `node ${r.spec.nodeId}: ${r.lastExit}`);
        void this.launch(r, r.runIsRestart);
      },
      (err: unknown) => {
        if (ac.signal.aborted || r.stopRequested) return;
        r.lastExit = `${taken}; ${(err as Error).message}`;
        this.onCrash(r, exit, r.lastExit);
      },
    );
  }

  /** An exit nobody asked for: restart per the policy, or `failed`. */
  private onCrash(r: NodeRecord, exit: ExitInfo, reason: string): void {
    this.endRun(r);
    const payload = exit.signal !== null ? { signal: exit.signal } : exit.exitCode !== null ? { exitCode: exit.exitCode } : { signal: 'UNKNOWN' };
    this.emit(r, 'NodeCrashed', payload, `node ${r.spec.nodeId} crashed (${reason})`);
    const decision = r.policy.onCrash(Date.now());
    if (decision.action === 'fail') {
      this.setStatus(r, 'failed');
      this.emit(r, 'NodeFailed', { reason: `${decision.reason}; last: ${reason}`, restartCount: r.restarts }, `node ${r.spec.nodeId} failed: ${decision.reason}`);
      // No SpawnFailed here: a node that never ran fails its spawn call, and the master records
      // that failure (with this reason in the error); a second record would tell it twice.
      return;
    }
    this.setStatus(r, 'restarting');
    const ac = new AbortController();
    r.abort = ac;
    sleep(decision.delayMs, ac.signal).then(
      () => {
        r.restarts++;
        void this.launch(r, true);
      },
      () => {}, // stopped while waiting
    );
  }

  /** Stops a node (SIGTERM / graceful, forced after the grace) and forgets it. Idempotent. */
  stop(nodeId: string, graceMs = 0): Promise<NodeView> {
    const r = this.record(nodeId);
    r.stopping ??= (async () => {
      const t0 = Date.now();
      r.stopRequested = true;
      this.endRunKeepPid(r);
      this.setStatus(r, 'stopping');
      await r.starting?.catch(() => {});
      await this.platform.stop(nodeId, graceMs > 0 ? graceMs : this.opts.stopGraceMs);
      r.pid = 0;
      r.probe?.close();
      this.replication.closeControl(r);
      this.setStatus(r, 'stopped');
      if (this.nodes.get(nodeId) === r) {
        this.nodes.delete(nodeId);
        this.opts.nodeTls?.forget(nodeId);
      }
      const durationMs = Date.now() - t0;
      this.emit(r, 'StopSucceeded', { durationMs }, `node ${nodeId} stopped in ${durationMs} ms`);
      return this.view(r);
    })();
    return r.stopping;
  }

  private endRunKeepPid(r: NodeRecord): void {
    const pid = r.pid;
    this.endRun(r);
    r.pid = pid;
  }

  /** Stops every node in parallel. */
  async stopAll(graceMs = 0): Promise<void> {
    await Promise.allSettled([...this.nodes.keys()].map((id) => this.stop(id, graceMs)));
  }

  /**
   * Takes over nodes a previous agent process left running (platform.adopt): each is `running`
   * again once it answers its health check; one that does not is killed and handled as a crash.
   */
  async adoptExisting(): Promise<NodeView[]> {
    const adopted = await this.platform.adopt();
    await Promise.all(
      adopted.map(async ({ spec, instance, startedAtMs }) => {
        const r = newNodeRecord(spec, this.restartOptions);
        r.pid = instance.pid;
        r.containerId = instance.containerId ?? '';
        // The process's own start, not the adoption: a re-adopted stale copy must not look newer
        // than the replacement the master started elsewhere meanwhile.
        r.startedAtMs = startedAtMs ?? Date.now();
        r.everRan = true;
        this.leases.adopted(r);
        this.nodes.set(spec.nodeId, r);
        this.logger.info({ nodeId: spec.nodeId, pid: instance.pid, port: spec.port }, 'adopted node left running by a previous agent');
        const ac = new AbortController();
        r.abort = ac;
        await this.probeToRunning(r, ac, 'adopt');
      }),
    );
    return this.list();
  }

  /** Releases probes and platform watchers; nodes keep running (call stopAll first to stop them). */
  async close(): Promise<void> {
    for (const r of this.nodes.values()) {
      this.endRunKeepPid(r);
      r.probe?.close();
      this.replication.closeControl(r);
    }
    await this.platform.close();
  }
}

/** A leader and a replica are one node in two roles (a promotion changes it): not a different spec. */
function sameRole(a: string, b: string): boolean {
  return a === b || (isReplicated(a) && isReplicated(b));
}
