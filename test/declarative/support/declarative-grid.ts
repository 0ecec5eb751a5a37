/**
 * A real declarative grid for tests: one master process, agents as processes with disjoint port
 * ranges, specs written to temp files, and a teardown that kills everything and reports what
 * was still alive. Built on test/helpers (processes.ts, agent-processes.ts, grid-client.ts).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { NodeInfo } from '../../../proto/gen/sutra/grid/v1/agent.pb.js';
import { startAgent, type AgentProcess } from '../../helpers/agent-processes.js';
import { portBlock } from '../../helpers/ports.js';
import { TestMasterClient } from '../../helpers/grid-client.js';
import { cleanup, isAlive, pidsMentioning, runCli, startMaster, tempDir, trackPid, type CliResult, type DaemonProcess } from '../../helpers/processes.js';

/** Sub-second thresholds: degraded after 0.8 s of silence, offline after 1.6 s. */
export const FAST_MASTER_ARGS = [
  '--heartbeat-interval', '200ms',
  '--degraded-after', '800ms',
  '--offline-after', '1600ms',
  '--health-check-interval', '50ms',
  '--reconcile-interval', '200ms',
] as const;

/** An event as `events --json` prints it. */
export interface GridEvent {
  readonly index: number;
  readonly type: string;
  readonly agentId: string;
  readonly nodeId: string;
  readonly cluster: string;
  readonly payload: Record<string, unknown>;
}

/** One agent of a test spec. */
export interface SpecAgent {
  readonly id: string;
  readonly nodes?: number;
  readonly labels?: Record<string, string>;
  /** `agents[].cordoned: true`. */
  readonly cordoned?: boolean;
}

/** One cluster of a test spec. */
export interface SpecCluster {
  readonly name: string;
  readonly nodes: number;
  readonly topology?: 'standalone' | 'leader-replicas';
  readonly placement?: 'spread' | 'binpack';
  readonly agents?: readonly string[];
  /** `clusters[].replication` (leader-replicas): durability, syncQuorum, syncTimeout. */
  readonly replication?: Record<string, string | number>;
  /** `clusters[].update`: maxUnavailable, minHealthyTime, healthyDeadline, autoRevert. */
  readonly update?: Record<string, string | number | boolean>;
  /** `clusters[].memory`. */
  readonly memory?: string;
}

/**
 * Builds a grid spec object (the shape of grid.yaml). Its monitoring matches the fast master flags
 * and the test agents' fast restart backoff: agents follow the spec's policy, not their config.
 */
export function gridSpec(agents: readonly SpecAgent[], clusters: readonly SpecCluster[], monitoring: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'test',
    monitoring: { heartbeatInterval: '200ms', degradedAfter: '800ms', offlineAfter: '1600ms', replaceAfter: '1s', restart: { backoff: '50ms' }, ...monitoring },
    storage: { memory: '64Mi' },
    agents: agents.map((a) => ({ id: a.id, platform: 'process', capacity: { nodes: a.nodes ?? 4 }, ...(a.labels ? { labels: a.labels } : {}), ...(a.cordoned ? { cordoned: true } : {}) })),
    clusters: clusters.map((c) => ({
      name: c.name,
      nodes: c.nodes,
      ...(c.topology ? { topology: c.topology } : {}),
      ...(c.replication ? { replication: { ...c.replication } } : {}),
      ...(c.update ? { update: { ...c.update } } : {}),
      ...(c.memory ? { memory: c.memory } : {}),
      ...(c.placement || c.agents ? { placement: { ...(c.placement ? { strategy: c.placement } : {}), ...(c.agents ? { agents: [...c.agents] } : {}) } } : {}),
    })),
  };
}

/** Agent-config overrides of {@link DeclarativeGrid.agent}. */
export interface AgentOverrides {
  readonly maxNodes?: number;
  readonly binaryPath?: string;
  readonly monitoring?: Record<string, string | number | boolean>;
}

/** A block of `size` ports no other grid of the test run uses (test/helpers/ports.ts). */
export { portBlock } from '../../helpers/ports.js';

/**
 * Master + agents of one test. Every data dir carries a per-grid marker, so teardown finds every
 * process the test caused (storage nodes included, even orphans of a killed agent) by command line.
 */
export class DeclarativeGrid {
  readonly marker = `sgd${randomBytes(4).toString('hex')}-`;
  readonly masterDataDir = tempDir(`${this.marker}master-`);
  master!: DaemonProcess;
  client!: TestMasterClient;
  private readonly agents = new Map<string, AgentProcess>();
  private readonly agentDirs = new Map<string, { dataDir: string; ports: number }>();
  private readonly daemons: DaemonProcess[] = [];
  private readonly masters: DaemonProcess[] = [];
  private readonly specDir = tempDir(`${this.marker}spec-`);

  /** Starts the master (again, on the same data dir) at `listen` (default an ephemeral port). */
  async startMaster(listen?: string, extraArgs: readonly string[] = []): Promise<DaemonProcess> {
    this.master = await startMaster({ dataDir: this.masterDataDir, ...(listen ? { listen } : {}), args: [...FAST_MASTER_ARGS, ...extraArgs] });
    this.daemons.push(this.master);
    this.masters.push(this.master);
    this.client?.close();
    this.client = new TestMasterClient(this.master.address);
    return this.master;
  }

  /** Starts (or restarts, same id, data dir and ports) an agent with its own port range. */
  async agent(id: string, o: AgentOverrides = {}): Promise<AgentProcess> {
    let dirs = this.agentDirs.get(id);
    if (dirs === undefined) {
      dirs = { dataDir: tempDir(`${this.marker}agent-${id}-`), ports: portBlock().start };
      this.agentDirs.set(id, dirs);
    }
    const a = await startAgent({
      id,
      master: this.master.address,
      dataDir: dirs.dataDir,
      config: {
        agent: { max_storage_nodes: o.maxNodes ?? 4 },
        storage: { default_port_range_start: dirs.ports, port_range_size: 50, ...(o.binaryPath ? { binary_path: o.binaryPath } : {}) },
        monitoring: { ...(o.monitoring ?? {}) },
      },
    });
    this.agents.set(id, a);
    this.daemons.push(a);
    return a;
  }

  /** Has {@link teardown} stop `d` too (e.g. a `sutra-grid up` process). */
  adopt(d: DaemonProcess): DaemonProcess {
    this.daemons.push(d);
    return d;
  }

  /** A fresh dir whose path carries this grid's marker, so teardown finds processes using it. */
  dir(name: string): string {
    return tempDir(`${this.marker}${name}-`);
  }

  /** Output of every master process this grid started, oldest first (for failure messages). */
  masterLogs(): string {
    return this.masters.map((d) => d.logs()).join('\n--- master restarted ---\n');
  }

  /** The running process of agent `id`. */
  agentProcess(id: string): AgentProcess {
    const a = this.agents.get(id);
    if (a === undefined) throw new Error(`no agent ${id}`);
    return a;
  }

  /** Writes a spec (object -> YAML, or raw text) to a temp file and returns its path. */
  writeSpec(spec: Record<string, unknown> | string, name = `grid-${randomBytes(3).toString('hex')}.yaml`): string {
    const file = join(this.specDir, name);
    writeFileSync(file, typeof spec === 'string' ? spec : stringify(spec));
    return file;
  }

  /** `sutra-grid <verb> FILE --master <this master> ...`. */
  cli(verb: string, file: string, ...args: string[]): Promise<CliResult> {
    return runCli([verb, file, '--master', this.master.address, ...args], { timeoutMs: 90_000 });
  }

  /** `apply --auto-approve`, failing with the CLI's output when it does not exit 0. */
  async apply(file: string, timeout = '45s'): Promise<CliResult> {
    const res = await this.cli('apply', file, '--auto-approve', '--timeout', timeout);
    if (res.code !== 0) throw new Error(`apply exited ${res.code}\nstdout:\n${res.stdout}\nstderr:\n${res.stderr}`);
    return res;
  }

  /** Events of one type, as `sutra-grid events --type T --json` prints them. */
  async events(type: string): Promise<GridEvent[]> {
    const res = await runCli(['events', '--type', type, '--json', '--master', this.master.address]);
    if (res.code !== 0) throw new Error(`events exited ${res.code}: ${res.stderr}`);
    return (JSON.parse(res.stdout) as { events: GridEvent[] }).events;
  }

  /**
   * {@link events} once at least `count` of them are listed, or as they stand after `timeoutMs`.
   * The event log lists what it has committed: a group commit comes up to 100 ms after the emit,
   * plus the fdatasync (README: events), so an event of an action that just ended, such as
   * NodeReplaced right after the new copy answers, may be listed a moment after the grid shows it.
   */
  async recordedEvents(type: string, count = 1, timeoutMs = 10_000): Promise<GridEvent[]> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const events = await this.events(type);
      if (events.length >= count || Date.now() >= end) return events;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Declared nodes (cluster set) as the master lists them; tracks their pids for teardown. */
  async nodes(cluster = ''): Promise<NodeInfo[]> {
    const { nodes } = await this.client.listNodes('', cluster);
    for (const n of nodes) trackPid(n.pid);
    return nodes.filter((n) => n.cluster !== '');
  }

  /** Live storage-server processes of agent `id`, found by their storage path. */
  nodePids(id?: string): number[] {
    const dirs = id === undefined ? [...this.agentDirs.values()] : [this.agentDirs.get(id)!];
    // Agents are started with --config only, so their data dir names only their storage nodes.
    return dirs.flatMap((d) => pidsMentioning(d.dataDir));
  }

  /**
   * Kills everything and returns what was still alive after a graceful stop: agents stop their
   * nodes on SIGTERM, so anything listed here is a leak.
   */
  async teardown(): Promise<string[]> {
    this.client?.close();
    await Promise.all(this.daemons.map((d) => d.stop('SIGTERM', 8_000)));
    // Agents stop their nodes before exiting; a node still alive now was leaked.
    const leaked = pidsMentioning(this.marker).map((pid) => ({ pid, cmd: cmdline(pid) }));
    for (const { pid } of leaked) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    const daemonsAlive = this.daemons.filter((d) => isAlive(d.pid)).map((d) => `daemon pid ${d.pid}`);
    await cleanup();
    return [...leaked.map((p) => `pid ${p.pid}: ${p.cmd}`), ...daemonsAlive];
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\u0000').join(' ').trim();
  } catch {
    return '(gone)';
  }
}

/** Exactly one copy per node id, or the duplicated ids. */
export function duplicates(nodes: readonly NodeInfo[]): string[] {
  const seen = new Map<string, number>();
  for (const n of nodes) if (n.status !== 'stopped') seen.set(n.nodeId, (seen.get(n.nodeId) ?? 0) + 1);
  return [...seen].filter(([, c]) => c > 1).map(([id]) => id);
}
