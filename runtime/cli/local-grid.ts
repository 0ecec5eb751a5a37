import { join, resolve } from 'node:path';
import type { CompiledAgentSpec, CompiledGridSpec } from '../../schema/index.js';
import { Agent, compileAgentOptions, createPlatform, type AgentConfigFile } from '../agent/index.js';
import { Master } from '../master/index.js';
import type { Logger } from '../common/logger.js';
import { RuntimeError } from '../errors.js';

/**
 * Lifecycle of a local grid (`sutra-grid up`):
 * - `starting`: the embedded master and the spec's local agents are being started;
 * - `running`: all of them serve;
 * - `draining`: Ctrl+C: agents stop their nodes, then the master stops;
 * - `stopped` / `failed`.
 */
export type LocalGridState = 'starting' | 'running' | 'draining' | 'stopped' | 'failed';

export interface LocalGridOptions {
  readonly spec: CompiledGridSpec;
  /** Directory for the master's state. @default ./.grid */
  readonly stateDir: string;
  readonly token: string | undefined;
  readonly logger: Logger;
  /** Overrides the spec's master address (tests use 127.0.0.1:0). */
  readonly masterListen?: string;
  /** HOST:PORT of the master's HTTP API and /metrics; undefined = none. */
  readonly http?: string;
}

/**
 * An embedded master plus one in-process agent per `process` agent of the spec. Agents of other
 * platforms are expected to run elsewhere and join the master themselves.
 */
export class LocalGrid {
  private stateValue: LocalGridState = 'starting';
  private master: Master | undefined;
  private readonly agents: Agent[] = [];
  private masterAddressValue = '';
  private stopping: Promise<void> | undefined;
  private resolveDone!: () => void;
  private readonly done = new Promise<void>((r) => (this.resolveDone = r));

  constructor(private readonly o: LocalGridOptions) {}

  get state(): LocalGridState {
    return this.stateValue;
  }

  /** host:port of the embedded master, once started. */
  get masterAddress(): string {
    return this.masterAddressValue;
  }

  /** host:port of the master's HTTP API, once started with `http`. */
  get httpAddress(): string | undefined {
    return this.master?.httpAddress;
  }

  /** The spec's agents this grid runs itself. */
  static localAgents(spec: CompiledGridSpec): CompiledAgentSpec[] {
    return spec.agents.filter((a) => a.platform === 'process');
  }

  /** Starts the master, then the local agents. On failure, stops what it started and rethrows. */
  async start(): Promise<string> {
    const { spec, stateDir, token, logger } = this.o;
    // The spec's thresholds once it is applied; as flags, they also hold before (or without) it.
    const m = spec.monitoring;
    try {
      const http = this.o.http !== undefined ? (await import('../http/index.js')).masterHttpDeps() : {};
      this.master = new Master(
        {
          listen: this.o.masterListen ?? spec.master.address,
          http: this.o.http,
          dataDir: join(stateDir, 'master'),
          token,
          heartbeatInterval: m.heartbeatIntervalMs,
          degradedAfter: m.degradedAfterMs,
          offlineAfter: m.offlineAfterMs,
        },
        { logger: logger.child({ component: 'master' }), ...http },
      );
      this.masterAddressValue = await this.master.start();
      const local = LocalGrid.localAgents(spec);
      const ranges = splitPortRange(spec.storage.portRange, local.length);
      for (const [i, a] of local.entries()) {
        const opts = compileAgentOptions(agentConfig(spec, a, this.masterAddressValue, ranges[i]!), { listen: a.address ?? '127.0.0.1:0' }, token);
        const agentLogger = logger.child({ component: 'agent', agentId: a.id });
        const agent = new Agent(opts, await createPlatform(opts, agentLogger), agentLogger);
        this.agents.push(agent);
        await agent.start();
      }
    } catch (err) {
      this.stateValue = 'failed';
      await this.stopAll();
      this.resolveDone();
      throw err;
    }
    this.stateValue = 'running';
    return this.masterAddressValue;
  }

  /** Resolves once the grid has stopped. */
  run(): Promise<void> {
    return this.done;
  }

  /** Stops the agents (each stops its nodes), then the master. Idempotent. */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.stateValue === 'stopped' || this.stateValue === 'failed') return;
      this.stateValue = 'draining';
      try {
        await this.stopAll();
        this.stateValue = 'stopped';
      } catch (err) {
        this.stateValue = 'failed';
        throw err;
      } finally {
        this.resolveDone();
      }
    })();
    return this.stopping;
  }

  /** Storage processes the local agents run right now (pid known). */
  nodePids(): number[] {
    return this.agents.flatMap((a) => a.nodes.list().map((n) => n.pid)).filter((pid) => pid > 0);
  }

  /**
   * Last resort when the process must exit without draining (a third Ctrl+C): SIGKILLs every node
   * the local agents run, so none outlives `up`. Synchronous, as the process exits right after.
   * @returns how many nodes were killed.
   */
  killNodes(): number {
    let killed = 0;
    for (const pid of this.nodePids()) {
      // Each node leads its own process group (detached spawn): the group takes its children too.
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL');
          killed++;
          break;
        } catch {
          // no such group (or already gone): try the pid itself, then give up
        }
      }
    }
    return killed;
  }

  private async stopAll(): Promise<void> {
    const errors: unknown[] = [];
    await Promise.all(this.agents.map((a) => a.shutdown().catch((err: unknown) => errors.push(err))));
    await this.master?.shutdown().catch((err: unknown) => errors.push(err));
    if (errors.length > 0) throw new RuntimeError('INTERNAL', `local grid stopped with errors: ${errors.map((e) => (e as Error).message).join('; ')}`);
  }
}

/**
 * Local agents share one host, so each gets its own slice of the spec's port range: two agents
 * probing the same free port at the same moment would otherwise both take it.
 */
export function splitPortRange(range: { start: number; end: number }, parts: number): Array<{ start: number; size: number }> {
  const total = range.end - range.start + 1;
  const size = Math.max(1, Math.floor(total / Math.max(1, parts)));
  return Array.from({ length: parts }, (_, i) => ({ start: range.start + i * size, size }));
}

/**
 * The agent-config.toml an agent of the spec would have, built in memory. No monitoring: the
 * spec's policy (heartbeat, restarts) reaches the agent from the master, as it does any agent.
 */
function agentConfig(spec: CompiledGridSpec, a: CompiledAgentSpec, master: string, ports: { start: number; size: number }): AgentConfigFile {
  return {
    agent: {
      agent_id: a.id,
      master_endpoint: master,
      platform: 'process',
      max_storage_nodes: a.capacity.nodes,
      max_memory_mb: a.capacity.memoryMb,
      labels: { ...a.labels },
    },
    storage: {
      ...(spec.storage.binary !== undefined ? { binary_path: spec.storage.binary } : {}),
      data_path: resolve(spec.storage.dataPath, a.id),
      default_memory_mb: spec.storage.memoryMb,
      default_port_range_start: ports.start,
      port_range_size: ports.size,
    },
  };
}
