import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { GridError, ShutdownTimeoutError } from '../errors.js';
import { startGrpcServer, type GrpcServerHandle } from '../common/grpc-server.js';
import { createLogger, type Logger } from '../common/logger.js';
import { AgentClientPool } from './agent-client-pool.js';
import { AgentRegistry, type HealthTransition } from './agent-registry.js';
import { runHealthMonitor } from './health-monitor.js';
import type { HandlerFactory, MasterContext } from './master-context.js';
import { emitSafely, type MasterEvents } from './master-events.js';
import { compileMasterOptions, type CompiledMasterOptions, type MasterOptions } from './master-options.js';
import { createMasterService } from './master-service.js';
import { NodeOperations } from './node-operations.js';
import { DeclarativeControl, type DeclarativeEvents } from './declarative.js';
import { FileSpecStore, type SpecStore } from './spec-store.js';

/**
 * Lifecycle of the master daemon:
 * - `starting`: options compiled, data dir being prepared, server binding;
 * - `running`: serving; the health monitor is active;
 * - `draining`: shutdown requested; the server finishes in-flight calls (forced after the timeout);
 * - `stopped`: everything the master owns is closed;
 * - `failed`: start-up failed, or the drain had to be forced.
 */
export type MasterState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

/** Collaborators a caller may supply; all optional. */
export interface MasterDeps {
  readonly logger?: Logger;
  /** Lifecycle hook (the event bus plugs in here). */
  readonly events?: MasterEvents;
  /** Handler modules that add to or replace the built-in ones (ApplySpec, events, ...). */
  readonly handlers?: readonly HandlerFactory[];
  /** Where the applied spec is kept. @default a FileSpecStore in the data dir */
  readonly specStore?: SpecStore;
  /** Declarative lifecycle hook (spec applied, node replaced, leader changed, cluster health). */
  readonly declarativeEvents?: DeclarativeEvents;
}

/** The grid master daemon: agent registry, health monitor and GridMaster gRPC service. */
export class Master {
  readonly options: CompiledMasterOptions;
  readonly registry = new AgentRegistry();
  readonly pool: AgentClientPool;
  readonly events: MasterEvents;
  private readonly logger: Logger;
  private readonly extraHandlers: readonly HandlerFactory[];
  private currentState: MasterState = 'starting';
  private server: GrpcServerHandle | undefined;
  private readonly abort = new AbortController();
  private monitor: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private resolveStopped: () => void = () => undefined;
  private readonly stopped = new Promise<void>((resolve) => {
    this.resolveStopped = resolve;
  });
  private context: MasterContext | undefined;
  private declarativeControl: DeclarativeControl | undefined;
  private reconcileLoop: Promise<void> = Promise.resolve();
  private readonly specStore: SpecStore | undefined;
  private readonly declarativeEvents: DeclarativeEvents | undefined;

  /** @throws ConfigError / GridError INSECURE_BIND for bad options, before anything is bound. */
  constructor(options: MasterOptions, deps: MasterDeps = {}) {
    this.options = compileMasterOptions(options);
    this.logger = deps.logger ?? createLogger('sutra-grid-master');
    this.events = deps.events ?? {};
    this.extraHandlers = deps.handlers ?? [];
    this.specStore = deps.specStore;
    this.declarativeEvents = deps.declarativeEvents;
    this.pool = new AgentClientPool(this.options.token);
  }

  /** The declarative half (applied spec, reconciler); available once started. */
  get declarative(): DeclarativeControl {
    if (this.declarativeControl === undefined) throw new GridError('INTERNAL', 'master not started');
    return this.declarativeControl;
  }

  /** Current lifecycle state. */
  get state(): MasterState {
    return this.currentState;
  }

  /** The handler context (registry, pool, node operations); available once started. */
  get ctx(): MasterContext {
    if (this.context === undefined) throw new GridError('INTERNAL', 'master not started');
    return this.context;
  }

  /**
   * Prepares the data dir (0700), binds the server and starts the health monitor.
   * @returns the address actually bound, e.g. `127.0.0.1:41234` for `--listen 127.0.0.1:0`.
   */
  async start(): Promise<string> {
    if (this.currentState !== 'starting' || this.server !== undefined) throw new GridError('INTERNAL', `master cannot start from state ${this.currentState}`);
    const o = this.options;
    try {
      await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
      await chmod(o.dataDir, 0o700);
      const masterId = await loadMasterId(o.dataDir);
      const ops = new NodeOperations(this.registry, this.pool, this.events, this.logger.child({ component: 'nodes' }), 2 * o.heartbeatIntervalMs);
      this.context = { options: o, masterId, registry: this.registry, pool: this.pool, ops, events: this.events, logger: this.logger };
      this.declarativeControl = new DeclarativeControl({
        registry: this.registry,
        ops,
        store: this.specStore ?? new FileSpecStore(o.dataDir),
        logger: this.logger,
        offlineAfterMs: o.offlineAfterMs,
        reconcileIntervalMs: o.reconcileIntervalMs,
        settleMs: o.settleMs,
        ...(this.declarativeEvents !== undefined ? { events: this.declarativeEvents } : {}),
      });
      await this.declarativeControl.init();
      const service = createMasterService(this.context, [this.declarativeControl.handlers(), ...this.extraHandlers]);
      this.server = await startGrpcServer(o.listen, [service], o.token);
    } catch (err) {
      this.currentState = 'failed';
      this.pool.close();
      this.resolveStopped();
      throw err;
    }
    this.monitor = runHealthMonitor(
      this.registry,
      { degradedAfterMs: o.degradedAfterMs, offlineAfterMs: o.offlineAfterMs, checkIntervalMs: o.healthCheckIntervalMs, onTransition: this.onHealthTransition },
      this.abort.signal,
    );
    this.reconcileLoop = this.declarative.run(this.abort.signal);
    this.currentState = 'running';
    this.logger.info(
      { address: this.server.address, dataDir: o.dataDir, auth: o.token !== undefined, masterId: this.ctx.masterId },
      `master listening on ${this.server.address}`,
    );
    this.logger.info(
      `heartbeat every ${o.heartbeatIntervalMs} ms; agents degraded after ${o.degradedAfterMs} ms and offline after ${o.offlineAfterMs} ms of silence; token ${o.token !== undefined ? 'required' : 'not set (loopback only)'}`,
    );
    return this.server.address;
  }

  /** Resolves once the master has stopped (after {@link shutdown} drained it). */
  run(): Promise<void> {
    return this.stopped;
  }

  /**
   * Stops serving: in-flight calls may finish within the shutdown timeout, then the server is
   * forced. Idempotent: every call returns the same promise.
   * @throws ShutdownTimeoutError when the drain had to be forced (state `failed`).
   */
  shutdown(): Promise<void> {
    this.stopping ??= this.drain();
    return this.stopping;
  }

  private async drain(): Promise<void> {
    if (this.currentState === 'stopped' || this.currentState === 'failed') return;
    this.currentState = 'draining';
    this.logger.info('master draining');
    this.abort.abort(new GridError('INTERNAL', 'master shutting down'));
    const timeoutMs = this.options.shutdownTimeoutMs;
    let forced = false;
    try {
      if (this.server !== undefined) {
        const server = this.server;
        const graceful = new Promise<void>((resolve) => server.server.tryShutdown(() => resolve()));
        forced = await Promise.race([
          graceful.then(() => false),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(true), timeoutMs).unref()),
        ]);
        await server.close(0);
      }
      await this.monitor;
      await this.reconcileLoop;
    } finally {
      this.pool.close();
      this.currentState = forced ? 'failed' : 'stopped';
      this.logger.info(forced ? `master forced to stop after ${timeoutMs} ms` : 'master stopped');
      this.resolveStopped();
    }
    if (forced) throw new ShutdownTimeoutError('master', timeoutMs);
  }

  private readonly onHealthTransition = (t: HealthTransition): void => {
    const onError = (err: unknown): void => this.logger.error({ err }, 'a master event listener threw; ignored');
    if (t.to === 'degraded') {
      this.logger.warn({ agentId: t.agentId, silentForMs: t.silentForMs }, `agent ${t.agentId} degraded: no heartbeat for ${t.silentForMs} ms`);
      emitSafely(this.events, 'agentDegraded', { agentId: t.agentId, silentForMs: t.silentForMs }, onError);
    } else if (t.to === 'offline') {
      this.logger.warn({ agentId: t.agentId, silentForMs: t.silentForMs }, `agent ${t.agentId} offline: no heartbeat for ${t.silentForMs} ms`);
      emitSafely(this.events, 'agentOffline', { agentId: t.agentId, silentForMs: t.silentForMs }, onError);
      // Its channel is most likely dead; the next call should dial afresh.
      this.pool.invalidate(t.agentId);
    }
  };
}

/** Reads the master id kept in the data dir, creating it on first start. */
async function loadMasterId(dataDir: string): Promise<string> {
  const file = join(dataDir, 'master-id');
  try {
    const id = (await readFile(file, 'utf8')).trim();
    if (id !== '') return id;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const id = `master-${randomUUID()}`;
  await writeFile(file, `${id}\n`, { mode: 0o600 });
  return id;
}
