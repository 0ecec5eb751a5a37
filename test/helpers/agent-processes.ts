/**
 * Agent and storage-server helpers for real-process tests: start `sutra-grid agent` with a
 * generated agent-config.toml, and promise-style GridAgent and health clients (StorageService: storage-client.ts).
 * Processes go through processes.ts, so its `cleanup()` kills them (and tracked node pids).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, type ServiceError } from '@grpc/grpc-js';
import { GridAgentClient, type ConfigureNodeRequest, type NodeInfo, type SpawnNodeRequest } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { unary } from '../../client/index.js';
import { HealthClient, type HealthCheckResponse } from '../../runtime/common/health.js';
import { NO_REPLICATION } from '../../runtime/common/grid-types.js';
import { storagePortConfig } from './ports.js';
import { startDaemon, tempDir, trackPid, type DaemonProcess } from './processes.js';

type Unary<Req, Res> = Parameters<typeof unary<Req, Res>>[0];

/** TOML tables -> text (flat values only; enough for agent-config.toml). */
export function toToml(tables: Record<string, Record<string, string | number | boolean>>): string {
  return Object.entries(tables)
    .map(([t, kv]) => `[${t}]\n${Object.entries(kv).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join('\n')}\n`)
    .join('\n');
}

/** Fast monitoring for tests: sub-second heartbeats and restart backoff. */
export const FAST_MONITORING = {
  heartbeat_interval_secs: 0.2,
  health_check_interval_secs: 0.5,
  restart_backoff_ms: 50,
  stop_grace_secs: 3,
} as const;

export interface AgentProcess extends DaemonProcess {
  readonly id: string;
  readonly dataDir: string;
  readonly configPath: string;
}

export interface StartAgentOptions {
  readonly id?: string;
  readonly master: string;
  readonly dataDir?: string;
  /** Extra/overriding config tables, merged over the defaults. */
  readonly config?: Record<string, Record<string, string | number | boolean>>;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

let agentSeq = 0;

/**
 * Starts `sutra-grid agent --config <generated toml>` on an ephemeral port, its nodes on a port block
 * of its own (ports.ts); waits for its listening line.
 */
export async function startAgent(opts: StartAgentOptions): Promise<AgentProcess> {
  const id = opts.id ?? `agent-${process.pid}-${++agentSeq}`;
  const dataDir = opts.dataDir ?? tempDir('agent-');
  const base: Record<string, Record<string, string | number | boolean>> = {
    agent: { agent_id: id, master_endpoint: opts.master, agent_port: 0, max_storage_nodes: 4 },
    storage: { data_path: dataDir, default_memory_mb: 64, ...storagePortConfig() },
    monitoring: { ...FAST_MONITORING },
  };
  for (const [t, kv] of Object.entries(opts.config ?? {})) base[t] = { ...base[t], ...kv };
  const configPath = join(tempDir('agent-config-'), 'agent-config.toml');
  writeFileSync(configPath, toToml(base));
  const d = await startDaemon(`agent ${id}`, ['agent', '--config', configPath, ...(opts.args ?? [])], { env: opts.env });
  return Object.assign(d, { id, dataDir, configPath });
}

/** Promise-style GridAgent client. */
export class TestAgentClient {
  readonly raw: InstanceType<typeof GridAgentClient>;

  constructor(address: string, private readonly token?: string) {
    this.raw = new GridAgentClient(address, credentials.createInsecure());
  }

  private call<Req, Res>(method: unknown, req: Req, timeoutMs = 40_000): Promise<Res> {
    return unary(method as Unary<Req, Res>, this.raw, req, this.token, timeoutMs);
  }

  /** Spawns and tracks the pid so cleanup() kills it even if the agent does not. */
  async spawn(req: Partial<SpawnNodeRequest> = {}): Promise<NodeInfo> {
    const full: SpawnNodeRequest = { nodeId: '', port: 0, memoryMb: 0, storagePath: '', cluster: '', role: '', generation: 0, ...NO_REPLICATION, ...req };
    const res = await this.call<SpawnNodeRequest, { node?: NodeInfo }>(this.raw.spawnNode, full);
    trackPid(res.node!.pid);
    return res.node!;
  }

  async stop(nodeId: string, graceMs = 0): Promise<NodeInfo> {
    return (await this.call<unknown, { node?: NodeInfo }>(this.raw.stopNode, { nodeId, graceMs })).node!;
  }

  async status(nodeId: string): Promise<NodeInfo> {
    return (await this.call<unknown, { node?: NodeInfo }>(this.raw.getNodeStatus, { nodeId }, 5_000)).node!;
  }

  /** ConfigureNode: unset fields keep the node's values (empty/zero). */
  async configure(req: Partial<ConfigureNodeRequest> & { nodeId: string }): Promise<NodeInfo> {
    const full: ConfigureNodeRequest = { role: '', leaderAddress: '', term: 0, durability: '', syncQuorum: 0, syncTimeoutMs: 0, handOverMs: 0, ...req };
    return (await this.call<ConfigureNodeRequest, { node?: NodeInfo }>(this.raw.configureNode, full, 15_000)).node!;
  }

  async list(): Promise<NodeInfo[]> {
    return (await this.call<unknown, { nodes: NodeInfo[] }>(this.raw.listNodes, {}, 5_000)).nodes;
  }

  close(): void {
    this.raw.close();
  }
}

/** One grpc.health.v1 Check of the whole server ('' service). */
export function healthCheck(address: string): Promise<HealthCheckResponse> {
  const c = new HealthClient(address, credentials.createInsecure());
  return new Promise<HealthCheckResponse>((resolve, reject) => {
    (c as unknown as { check(r: unknown, o: unknown, cb: (e: ServiceError | null, r: HealthCheckResponse) => void): void }).check(
      { service: '' },
      { deadline: new Date(Date.now() + 5000) },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
  }).finally(() => c.close());
}

/** The gRPC status code a promise rejects with (0 when it resolves). */
export async function codeOf(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
    return { code: 0, details: '' };
  } catch (err) {
    const e = err as ServiceError;
    return { code: e.code, details: e.details ?? e.message };
  }
}
