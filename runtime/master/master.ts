import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, ShutdownTimeoutError, RuntimeError } from '../errors.js';
import { isLoopbackHost, splitHostPort, startGrpcServer, type GrpcServerHandle } from '../common/grpc-server.js';
import { masterSecurity, type MasterSecurity } from './pki/master-security.js';
import type { CredentialStore } from './pki/credential-store.js';
import { insecureCredentials, tlsChannelCredentials, type GridIdentity } from '../../client/transport.js';
import { createLogger, type Logger } from '../common/logger.js';
import { AgentClientPool } from './agent-client-pool.js';
import { AgentRegistry, type HealthThresholds, type HealthTransition } from './agent-registry.js';
import { runHealthMonitor } from './health-monitor.js';
import { describePolicy, policyInForce, type PolicyInForce } from './policy-in-force.js';
import type { MasterContext } from './master-context.js';
import type { HandlerFactory } from './handlers/master-handlers.js';
import { emitSafely, type MasterEvents } from './master-events.js';
import { compileMasterOptions, type CompiledMasterOptions, type MasterOptions } from './master-options.js';
import { createMasterService } from './handlers/master-service.js';
import { followerReads, LeaderReads } from './handlers/leader-reads.js';
import { eventHandlers } from './handlers/event-handlers.js';
import { declarativeHandlers } from './handlers/declarative-handlers.js';
import { cordonHandlers } from './handlers/cordon-handlers.js';
import { operatorHandlers } from './handlers/operator-handlers.js';
import { NodeOperations } from './node-operations.js';
import { DeclarativeControl, type DeclarativeEvents } from './declarative.js';
import { FileSpecStore, type SpecStore } from './spec-store.js';
import { EventBus, StorageMirror, mirrorCursorPath, type EventBusOptions } from '../events/index.js';
import { connectEventStorage, type EventStorageClient } from './event-mirror-client.js';
import { declarativeEventsToBus, eventStoreHealth, followLeadership, logEventLogRecovery, masterEventsToBus, specRecoveryToBus } from './event-wiring.js';
import { observe, type MasterMetrics } from './master-metrics.js';
import type { HttpFrontEndFactory, MasterApi, MasterFrontEnd } from './master-api.js';
import { requireLeader, requireLeaderFor, SoleLeadership, type Leadership, type SharedEventStore } from './leadership.js';
import { capYoungGeneration, MASTER_SEMI_SPACE_MB } from './young-generation.js';


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
  /** Told what the master measures (latencies, passes, event writes); see master-metrics.ts. */
  readonly metrics?: MasterMetrics;
  /** Starts the HTTP API when the options name an `http` address (required then). */
  readonly http?: HttpFrontEndFactory;
  /**
   * Whether this master may act; with several masters on etcd, the election (store/etcd-state.ts).
   * @default a master that always leads (the file store)
   */
  readonly leadership?: Leadership;
  /** The event log several masters share (with `leadership`); @default the file log in the data dir */
  readonly sharedEvents?: SharedEventStore;
  /**
   * Tokens and revocations several masters share (etcd), used with TLS; the master opens and
   * closes it. @default the file `<data-dir>/pki/credentials.json`
   */
  readonly credentials?: CredentialStore;
  /**
   * The largest semi-space V8's young generation may grow to while this master runs, in MiB (see
   * young-generation.ts: the heap is the whole process's); 0 leaves V8's own (16 MiB).
   * @default MASTER_SEMI_SPACE_MB (4)
   */
  readonly semiSpaceMb?: number;
}

/** The grid master daemon: agent registry, health monitor and GridMaster gRPC service. */
export class Master {
  readonly options: CompiledMasterOptions;
  readonly registry = new AgentRegistry();
  readonly pool: AgentClientPool;
  /** Lifecycle hooks: the caller's, or (by default) the durable event bus once started. */
  events: MasterEvents;
  private readonly logger: Logger;
  private readonly extraHandlers: readonly HandlerFactory[];
  private currentState: MasterState = 'starting';
  private server: GrpcServerHandle | undefined;
  private security: MasterSecurity | undefined;
  /** A follower's channel to the leader, for the reads it forwards (tokenless with TLS: its certificate speaks). */
  private readonly leaderReads: LeaderReads;
  private readonly abort = new AbortController();
  private monitor: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;
  private resolveStopped: () => void = () => undefined;
  private rejectStopped: (err: unknown) => void = () => undefined;
  private readonly stopped = new Promise<void>((resolve, reject) => {
    this.resolveStopped = resolve;
    this.rejectStopped = reject;
  });
  private context: MasterContext | undefined;
  private startPromise: Promise<string> | undefined;
  private declarativeControl: DeclarativeControl | undefined;
  private reconcileLoop: Promise<void> = Promise.resolve();
  private readonly specStore: SpecStore | undefined;
  private readonly declarativeEvents: DeclarativeEvents | undefined;
  private bus: EventBus | undefined;
  private readonly eventsFromCaller: boolean;
  private readonly sharedEvents: SharedEventStore | undefined;
  private readonly credentials: CredentialStore | undefined;
  private mirror: StorageMirror | undefined;
  private mirrorClient: EventStorageClient | undefined;
  /** The last policy line logged, so a change is logged once. */
  private policyLine = '';
  /** The policy the health monitor last enforced, and when it last changed from which. */
  private enforced: PolicyInForce | undefined;
  private policyChange: { readonly atMs: number; readonly previous: PolicyInForce } | undefined;
  private readonly metrics: MasterMetrics | undefined;
  private readonly httpFactory: HttpFrontEndFactory | undefined;
  private http: MasterFrontEnd | undefined;
  private readonly semiSpaceMb: number;
  private releaseYoungGeneration: () => void = () => undefined;
  /** Whether this master may act (reconcile, schedule, accept writes). */
  readonly leadership: Leadership;

  /** @throws ConfigError / GridError INSECURE_BIND for bad options, before anything is bound. */
  constructor(options: MasterOptions, deps: MasterDeps = {}) {
    this.options = compileMasterOptions(options);
    this.logger = deps.logger ?? createLogger('sutra-grid-master');
    this.events = deps.events ?? {};
    this.eventsFromCaller = deps.events !== undefined;
    this.extraHandlers = deps.handlers ?? [];
    this.specStore = deps.specStore;
    this.declarativeEvents = deps.declarativeEvents;
    this.metrics = deps.metrics;
    this.httpFactory = deps.http;
    this.leadership = deps.leadership ?? new SoleLeadership();
    this.sharedEvents = deps.sharedEvents;
    this.credentials = deps.credentials;
    this.semiSpaceMb = deps.semiSpaceMb ?? MASTER_SEMI_SPACE_MB;
    if (this.options.http !== undefined && this.httpFactory === undefined) {
      throw new ConfigError('--http', 'this master was built without its HTTP front-end (MasterDeps.http)');
    }
    this.pool = new AgentClientPool(this.options.token);
    this.leaderReads = new LeaderReads(
      () => (this.security !== undefined ? tlsChannelCredentials(this.security.pki.source, { role: 'master' }) : insecureCredentials),
      this.options.token,
    );
  }

  /** HOST:PORT of the HTTP API, once started with `http` set; undefined otherwise. */
  get httpAddress(): string | undefined {
    return this.http?.address;
  }

  /** The declarative half (applied spec, reconciler); available once started. */
  get declarative(): DeclarativeControl {
    if (this.declarativeControl === undefined) throw new RuntimeError('INTERNAL', 'master not started');
    return this.declarativeControl;
  }

  /** Current lifecycle state. */
  get state(): MasterState {
    return this.currentState;
  }

  /** The handler context (registry, pool, node operations); available once started. */
  get ctx(): MasterContext {
    if (this.context === undefined) throw new RuntimeError('INTERNAL', 'master not started');
    return this.context;
  }

  /**
   * Prepares the data dir (0700), binds the server and starts the health monitor.
   * @returns the address actually bound, e.g. `127.0.0.1:41234` for `--listen 127.0.0.1:0`.
   */
  start(): Promise<string> {
    if (this.startPromise !== undefined) throw new RuntimeError('INTERNAL', `master cannot start from state ${this.currentState}`);
    this.startPromise = this.doStart();
    return this.startPromise;
  }

  private async doStart(): Promise<string> {
    const o = this.options;
    try {
      await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
      await chmod(o.dataDir, 0o700);
      const masterId = await loadMasterId(o.dataDir);
      // Mutual TLS (issue 14): the grid CA, the master's certificate, join tokens, roles. Before the
      // events: the mirror to --event-storage dials with the master's certificate.
      this.security = await masterSecurity(
        o,
        masterId,
        this.logger,
        () => this.pool.close(),
        (nodeId, agentId) => {
          requireLeader(this.leadership, 'IssueNodeCertificate');
          return this.context?.ops.runsOn(nodeId, agentId) ?? false;
        },
        this.credentials,
      );
      if (this.security !== undefined) this.pool.useTls(this.security.pki.source);
      const bus = await this.openEvents();
      const ops = new NodeOperations(this.registry, this.pool, this.events, this.logger.child({ component: 'nodes' }), () =>
        // An agent may still beat at the flags' interval until the spec's policy reaches it: the longer of the two.
        2 * Math.max(o.heartbeatIntervalMs, this.policy().heartbeatIntervalMs),
        this.metrics,
      );
      this.context = {
        options: o,
        masterId,
        registry: this.registry,
        pool: this.pool,
        ops,
        events: this.events,
        logger: this.logger,
        policy: this.policy,
        stopping: this.abort.signal,
        metrics: this.metrics,
        mayServe: (rpc) => requireLeader(this.leadership, rpc),
        revokedNodeSerials: () => this.security?.pki.registry.revokedNodeSerials() ?? [],
      };
      this.declarativeControl = new DeclarativeControl({
        registry: this.registry,
        ops,
        store: this.specStore ?? new FileSpecStore(o.dataDir, { onRecovered: specRecoveryToBus(bus, this.logger) }),
        logger: this.logger,
        offlineAfterMs: () => this.policy().offlineAfterMs,
        reconcileIntervalMs: o.reconcileIntervalMs,
        settleMs: o.settleMs,
        events: this.declarativeEvents ?? declarativeEventsToBus(bus),
        eventStats: () => eventStoreHealth(bus),
        metrics: this.metrics,
        // Only an elected leadership gates the reconciler (a lone master always acts).
        ...(this.leadership instanceof SoleLeadership ? {} : { leading: () => this.leadership.isLeader() }),
        masters: () => ({ masters: [...this.leadership.peers()], storeHealth: this.leadership.storeHealth() }),
      });
      const held = await this.declarativeControl.init();
      if (held !== undefined) {
        this.logger.error({ problem: held }, 'the stored spec no longer compiles: it is kept but not enforced (nothing is reconciled) until a valid spec is applied');
      }
      const service = createMasterService(
        this.context,
        [declarativeHandlers(this.declarativeControl), cordonHandlers(this.declarativeControl.cordons), operatorHandlers(this.declarativeControl), eventHandlers(bus, this.abort.signal), ...this.extraHandlers],
        // A follower hears from no agent: its view of the grid is empty, so it answers what it
        // reads from the shared state (events, the spec), asks the leader for the other reads,
        // and refuses writes naming the leader.
        (rpc) => requireLeaderFor(this.leadership, rpc),
        this.security?.guard,
        followerReads(this.leadership, this.leaderReads),
      );
      this.server = await startGrpcServer(o.listen, [service, ...(this.security?.services ?? [])], o.token, this.security?.tls);
      // A master that starts leading takes the shared state as it is now, and waits for the agents.
      if (this.sharedEvents !== undefined) followLeadership(this.leadership, this.sharedEvents, bus, this.logger);
      this.leadership.onChange((leading) => {
        if (leading) void this.declarative.resume().catch((err: unknown) => this.logger.error({ err: (err as Error).message }, 'could not load the shared state on becoming leader'));
      });
      await this.leadership.start(this.server.address, masterId);
      if (o.http !== undefined && this.httpFactory !== undefined) this.http = await this.httpFactory(this.api(ops, bus), o.http);
    } catch (err) {
      this.currentState = 'failed';
      await this.server?.close(0);
      await this.leadership.close().catch(() => undefined);
      this.pool.close();
      this.security?.pki.stop();
      await this.credentials?.close().catch(() => undefined);
      await this.closeEvents();
      this.resolveStopped();
      throw err;
    }
    this.monitor = runHealthMonitor(
      this.registry,
      { thresholds: this.healthThresholds, checkIntervalMs: o.healthCheckIntervalMs, onTransition: this.onHealthTransition },
      this.abort.signal,
    );
    this.reconcileLoop = this.declarative.run(this.abort.signal);
    if (this.semiSpaceMb > 0) this.releaseYoungGeneration = capYoungGeneration(this.semiSpaceMb);
    this.currentState = 'running';
    this.logger.info(
      { address: this.server.address, dataDir: o.dataDir, auth: o.token !== undefined, masterId: this.ctx.masterId },
      `master listening on ${this.server.address}`,
    );
    if (this.http !== undefined) this.logger.info({ http: this.http.address }, `master HTTP API listening on ${this.security !== undefined ? 'https' : 'http'}://${this.http.address}`);
    this.logger.info(`token ${o.token !== undefined ? 'required' : 'not set (loopback only)'}`);
    if (o.token !== undefined && !isLoopbackHost(splitHostPort(o.listen).host)) {
      this.logger.warn('deprecated: the shared token off loopback; it is sent in clear without TLS and grants every role. Use mutual TLS and join tokens (sutra-grid token create)');
    }
    this.enforcedPolicy();
    return this.server.address;
  }

  /**
   * Resolves once the master has stopped after {@link shutdown} drained it.
   * @throws ShutdownTimeoutError when the drain had to be forced (state `failed`).
   */
  run(): Promise<void> {
    return this.stopped;
  }

  /**
   * Stops serving: in-flight calls may finish within the shutdown timeout, then the server is
   * forced. Idempotent: every call returns the same promise. Never rejects (it is fired from a
   * signal handler); the outcome of the drain is what {@link run} settles with.
   */
  shutdown(): Promise<void> {
    this.stopping ??= this.drain().then(
      () => this.resolveStopped(),
      (err: unknown) => this.rejectStopped(err),
    );
    return this.stopping;
  }

  private async drain(): Promise<void> {
    // A signal may arrive while starting: let the start finish (or fail), then drain what it built.
    await this.startPromise?.catch(() => undefined);
    if (this.currentState === 'stopped' || this.currentState === 'failed') return;
    this.currentState = 'draining';
    this.logger.info('master draining');
    this.abort.abort(new RuntimeError('INTERNAL', 'master shutting down'));
    const timeoutMs = this.options.shutdownTimeoutMs;
    let forced = false;
    try {
      if (this.server !== undefined) {
        const server = this.server;
        // Load balancers and agents probing health see the drain before connections close; their
        // Watch streams end, or the graceful shutdown would wait for them.
        server.health.shutdown();
        const graceful = new Promise<void>((resolve) => server.server.tryShutdown(() => resolve()));
        // The HTTP API drains beside it: its event streams ended with the abort above.
        const httpClosed = this.http?.close(timeoutMs) ?? Promise.resolve();
        forced = await Promise.race([
          graceful.then(() => false),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(true), timeoutMs).unref()),
        ]);
        await server.close(0);
        await httpClosed;
      }
      await this.monitor;
      await this.reconcileLoop;
    } finally {
      this.pool.close();
      this.leaderReads.close();
      // Before the leadership closes the etcd client it watches on.
      await this.credentials?.close().catch(() => undefined);
      // The leader's last events go to the shared log while it still holds the leadership.
      if (this.sharedEvents !== undefined) await this.bus?.flush(3000).catch(() => undefined);
      await this.leadership.close().catch((err: unknown) => this.logger.error({ err: (err as Error).message }, 'leadership close failed'));
      this.security?.pki.stop();
      await this.closeEvents();
      this.releaseYoungGeneration();
      this.currentState = forced ? 'failed' : 'stopped';
      this.logger.info(forced ? `master forced to stop after ${timeoutMs} ms` : 'master stopped');
    }
    if (forced) throw new ShutdownTimeoutError('master', timeoutMs);
  }

  /**
   * Opens the durable event log under the data dir (or the log several masters share); unless the caller supplied its own hooks, the
   * master's lifecycle facts go to it. With `eventStorage`, a mirror also copies them to a
   * storage-server, catching up after that server was away.
   */
  private async openEvents(): Promise<EventBus> {
    const o = this.options;
    const options: EventBusOptions = {
      maxEvents: o.eventMaxCount,
      maxAgeMs: o.eventMaxAgeMs,
      maxPending: o.eventBuffer,
      seriesFlushMs: o.eventSeriesFlushMs,
      onStoreError: (err) => this.logger.error({ err: (err as Error).message }, 'event store write failed; buffering events'),
      onWrite: (e) => observe(this.metrics, 'eventWrite', e),
      // Several masters: only the leader records (a follower's registry is empty or stale).
      ...(this.sharedEvents !== undefined ? { accepting: () => this.leadership.isLeader() } : {}),
    };
    const shared = this.sharedEvents;
    if (shared !== undefined) await shared.open();
    const bus = shared !== undefined
      ? new EventBus(shared, options)
      // Outside the events dir: losing that dir must not make an index be handed out again.
      : await EventBus.open(join(o.dataDir, 'events'), { ...options, highWaterMarkPath: join(o.dataDir, 'events.hwm') });
    this.bus = bus;
    logEventLogRecovery(bus, this.logger);
    if (this.eventsFromCaller === false) this.events = masterEventsToBus(bus);
    if (o.eventStorage !== undefined) {
      this.mirrorClient = connectEventStorage(o.eventStorage, o.token, this.security?.pki.source);
      this.mirror = new StorageMirror(bus, this.mirrorClient.client, {
        cursorPath: mirrorCursorPath(join(o.dataDir, 'events'), o.eventStorage),
        onError: (err) => this.logger.debug({ err: (err as Error).message }, 'event mirror: storage-server unavailable; will catch up'),
      });
      await this.mirror.start();
    }
    return bus;
  }

  private async closeEvents(): Promise<void> {
    await this.mirror?.stop().catch(() => undefined);
    this.mirrorClient?.close();
    await this.bus?.close().catch((err: unknown) => this.logger.error({ err: (err as Error).message }, 'event store close failed'));
  }

  /** The services a front-end calls: the same objects the gRPC handlers use. */
  private api(ops: NodeOperations, bus: EventBus): MasterApi {
    const pki = this.security?.pki;
    const credentials = pki && { tls: pki.source, apiToken: (t: string) => pki.registry.apiTokenIdentity(t), isRevoked: (serial: string, id: GridIdentity) => pki.registry.isRevoked(serial, id) };
    return { options: this.options, registry: this.registry, ops, declarative: this.declarative, events: bus, stopping: this.abort.signal, logger: this.logger.child({ component: 'http' }), credentials };
  }

  /** The event bus, once started. */
  get eventBus(): EventBus {
    if (this.bus === undefined) throw new RuntimeError('INTERNAL', 'master not started');
    return this.bus;
  }

  /**
   * The monitoring policy in force: the applied spec's heartbeat and health thresholds, else the
   * master's flags (before a spec exists, or after it is deleted).
   */
  readonly policy = (): PolicyInForce =>
    policyInForce(this.declarativeControl?.desired.monitoring() ?? { generation: 0, monitoring: undefined }, this.options);

  /** The policy the health monitor enforces, logged whenever it changes. */
  private readonly enforcedPolicy = (): PolicyInForce => {
    const p = this.policy();
    const line = describePolicy(p);
    if (line !== this.policyLine) {
      if (this.enforced !== undefined) this.policyChange = { atMs: Date.now(), previous: this.enforced };
      this.policyLine = line;
      this.enforced = p;
      this.logger.info({ generation: p.generation, heartbeatMs: p.heartbeatIntervalMs, degradedAfterMs: p.degradedAfterMs, offlineAfterMs: p.offlineAfterMs }, line);
    }
    return p;
  };

  /**
   * Health thresholds per agent: an agent not heard from since the policy last changed has not
   * received it yet and still beats at the old interval, so the looser of the old and new
   * thresholds judges it (a spec with shorter ones must not degrade every agent at once).
   */
  private readonly healthThresholds = (): ((lastHeartbeatMs: number) => HealthThresholds) => {
    const p = this.enforcedPolicy();
    const change = this.policyChange;
    if (change === undefined) return () => p;
    const looser: HealthThresholds = {
      degradedAfterMs: Math.max(p.degradedAfterMs, change.previous.degradedAfterMs),
      offlineAfterMs: Math.max(p.offlineAfterMs, change.previous.offlineAfterMs),
    };
    return (lastHeartbeatMs) => (lastHeartbeatMs < change.atMs ? looser : p);
  };

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
