import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { gridGuard } from '../common/call-guard.js';
import { startGrpcServer, splitHostPort, isLoopbackHost, type GrpcServerHandle } from '../common/grpc-server.js';
import type { Logger } from '../common/logger.js';
import type { CompiledAgentOptions } from './agent-config.js';
import { createAgentService } from './agent-service.js';
import { DataDirLock } from './data-dir-lock.js';
import type { GridPolicy } from '../common/grid-types.js';
import { describeEffectivePolicy, isOwnConfig, resolvePolicy, type EffectivePolicy } from './grid-policy.js';
import { MasterLink } from './master-link.js';
import { NodeSupervisor } from './node-supervisor.js';
import { nodeToken } from './node-token.js';
import type { NodePlatform } from './platform.js';
import { NodeCredentials, nodeTlsRoot } from './node-credentials.js';
import { NodeRevocations } from './node-revocations.js';

/** Agent daemon lifecycle. */
export type AgentState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

/** The package version, reported to the master. */
function packageVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'sutra-grid' && pkg.version) return pkg.version;
    } catch {
      // not at this level (source vs dist layout)
    }
  }
  return '0.0.0';
}

/**
 * The agent daemon: serves GridAgent, supervises its nodes on a NodePlatform and keeps itself
 * registered with the master. `start()` -> `run()` -> `shutdown()` (idempotent: stops every node,
 * unregisters, closes the server).
 */
export class Agent {
  private stateValue: AgentState = 'starting';
  private grpc: GrpcServerHandle | undefined;
  private link: MasterLink | undefined;
  private readonly supervisor: NodeSupervisor;
  private stopping: Promise<void> | undefined;
  private readonly lock: DataDirLock;
  private readonly done: Promise<void>;
  private resolveDone!: () => void;
  /** This agent's own config: followed until the grid sends a policy, and again after the spec is deleted. */
  private readonly ownPolicy: EffectivePolicy;
  /** Certificates of the nodes (an agent with a certificate), else undefined: plaintext nodes. */
  private readonly nodeTls: NodeCredentials | undefined;
  /** The master's revoked node certificates, handed to the nodes (with node TLS only). */
  private readonly nodeRevocations: NodeRevocations | undefined;

  constructor(
    readonly opts: CompiledAgentOptions,
    private readonly platform: NodePlatform,
    private readonly logger: Logger,
  ) {
    this.done = new Promise((r) => (this.resolveDone = r));
    this.lock = new DataDirLock(opts.storage.dataPath);
    const m = opts.monitoring;
    this.ownPolicy = {
      heartbeatIntervalMs: m.heartbeatIntervalMs,
      restart: { enabled: m.restartFailedNodes, maxRestarts: m.restartMax, windowMs: m.restartWindowMs, backoffMs: m.restartBackoffMs, backoffMaxMs: m.restartBackoffMaxMs },
    };
    // Nodes speak mutual TLS when the agent holds a certificate, and only then leave loopback: they
    // bind the agent's own host, where replicas on other hosts reach their leader. Container nodes
    // too: their credential is mounted read-only and handed to the user they run as.
    this.nodeTls = opts.tls !== undefined ? new NodeCredentials(opts.tls, opts.masterEndpoint, opts.storage.dataPath, logger.child({ component: 'node-tls' }), platform.nodeUser) : undefined;
    this.nodeRevocations = this.nodeTls !== undefined ? new NodeRevocations(nodeTlsRoot(opts.storage.dataPath)) : undefined;
    const { host } = splitHostPort(opts.listen);
    const nodeHost = platform.nodeDialHost ?? (this.nodeTls !== undefined && !isLoopbackHost(host) ? host : undefined);
    if (this.nodeTls === undefined && !isLoopbackHost(host)) {
      logger.warn('nodes speak plaintext without an agent certificate, so they listen on 127.0.0.1 only: replicas on other hosts cannot reach them (join the grid with --join for mutual TLS)');
    }
    this.supervisor = new NodeSupervisor(
      platform,
      {
        agentId: opts.agentId,
        dataPath: opts.storage.dataPath,
        defaultMemoryMb: opts.storage.defaultMemoryMb,
        portRangeStart: opts.storage.portRangeStart,
        portRangeSize: opts.storage.portRangeSize,
        maxNodes: opts.maxNodes,
        maxMemoryMb: opts.maxMemoryMb,
        startupProbeIntervalMs: m.startupProbeIntervalMs,
        startTimeoutMs: m.startTimeoutMs,
        healthCheckIntervalMs: m.healthCheckIntervalMs,
        stopGraceMs: m.stopGraceMs,
        restart: this.ownPolicy.restart,
        nodeToken: opts.token !== undefined ? nodeToken(opts.token) : undefined,
        nodeHost,
        nodeTls: this.nodeTls,
      },
      logger.child({ component: 'supervisor' }),
      (e) => this.link?.reportEvent(e),
    );
  }

  get state(): AgentState {
    return this.stateValue;
  }

  /** The node supervisor (for in-process embedding and tests). */
  get nodes(): NodeSupervisor {
    return this.supervisor;
  }

  /** Adopts surviving nodes, binds the GridAgent server, starts the master link. Returns host:port bound. */
  async start(): Promise<string> {
    try {
      this.lock.acquire();
      const adopted = await this.supervisor.adoptExisting();
      if (adopted.length > 0) this.logger.info({ nodes: adopted.map((n) => `${n.nodeId}:${n.pid}`) }, `re-adopted ${adopted.length} running node(s)`);
      // With a certificate, only the master's certificate (or the legacy token) may drive this agent.
      const tls = this.opts.tls;
      const auth = tls === undefined ? this.opts.token : gridGuard({ token: this.opts.token, tls: true });
      this.grpc = await startGrpcServer(this.opts.listen, [createAgentService(this.supervisor, auth)], this.opts.token, tls && { source: tls, requireClientCert: true });
      const { host } = splitHostPort(this.opts.listen);
      const advertised = host === '0.0.0.0' || host === '::' || host === '[::]' ? `${hostname()}:${this.grpc.port}` : this.grpc.address;
      if (this.opts.token === undefined && isLoopbackHost(host)) this.logger.warn('no token: listening on loopback only');
      this.link = new MasterLink({
        masterEndpoint: this.opts.masterEndpoint,
        token: this.opts.token,
        tls: this.opts.tls,
        heartbeatIntervalMs: this.opts.monitoring.heartbeatIntervalMs,
        nodes: () => this.supervisor.list(),
        onPolicy: (p) => this.applyPolicy(p),
        onAnswered: (sentAtMs, p) => this.supervisor.masterAnswered(sentAtMs, p.offlineAfterMs),
        onRevokedNodes: (serials) => this.nodeRevocations?.update(serials),
        logger: this.logger.child({ component: 'master-link' }),
        info: {
          agentId: this.opts.agentId,
          hostname: hostname(),
          platform: this.platform.name,
          address: advertised,
          capacity: { maxNodes: this.opts.maxNodes, memoryMb: this.opts.maxMemoryMb },
          version: packageVersion(),
          labels: { ...this.opts.labels },
          portRangeStart: this.opts.storage.portRangeStart,
          portRangeSize: this.opts.storage.portRangeSize,
        },
      });
      this.link.start();
      this.nodeTls?.startRenewal(() => this.supervisor.list().filter((n) => n.status !== 'stopped' && n.status !== 'failed').map((n) => n.nodeId));
      this.stateValue = 'running';
      return this.grpc.address;
    } catch (err) {
      this.stateValue = 'failed';
      await this.grpc?.close(1000);
      // Adopted nodes are left running: they belong to whichever agent starts next on this dir.
      await this.supervisor.close();
      this.lock.release();
      this.resolveDone();
      throw err;
    }
  }

  /** Follows the grid's policy (the master's link has already switched its heartbeat interval). */
  private applyPolicy(grid: GridPolicy): void {
    const p = resolvePolicy(grid, this.ownPolicy);
    this.supervisor.setRestartPolicy(p.restart);
    const shown = describeEffectivePolicy({ ...p, heartbeatIntervalMs: this.link?.heartbeatIntervalMs ?? p.heartbeatIntervalMs });
    const fields = { generation: grid.generation, heartbeatMs: this.link?.heartbeatIntervalMs, maxRestarts: p.restart.maxRestarts, restartWindowMs: p.restart.windowMs, restartBackoffMs: p.restart.backoffMs };
    if (isOwnConfig(grid)) this.logger.info(fields, `the grid has no policy (generation ${grid.generation}): back to this agent's own config: ${shown}`);
    else this.logger.info(fields, `applying the grid's policy (generation ${grid.generation}): ${shown}`);
  }

  /** Resolves once the agent has stopped. */
  run(): Promise<void> {
    return this.done;
  }

  /**
   * Stops serving, stops every node (SIGTERM, SIGKILL after the grace), unregisters from the
   * master and releases everything. Idempotent.
   */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.stateValue === 'stopped' || this.stateValue === 'failed') return;
      this.stateValue = 'draining';
      this.logger.info({ nodes: this.supervisor.list().length }, 'agent shutting down: stopping nodes');
      try {
        await this.grpc?.close(2000);
        this.nodeTls?.stop();
        await this.supervisor.stopAll();
        await this.link?.stop(true);
        await this.supervisor.close();
        this.lock.release();
        this.stateValue = 'stopped';
        this.logger.info('agent stopped');
      } catch (err) {
        this.stateValue = 'failed';
        this.logger.error({ err: (err as Error).message }, 'agent shutdown failed');
        throw err;
      } finally {
        this.resolveDone();
      }
    })();
    return this.stopping;
  }
}
