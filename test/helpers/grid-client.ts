/**
 * A raw GridMaster client for tests that pose as agents or operators.
 */
import { GridMasterClient, type AgentInfo } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import type * as pb from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import type { NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import { insecureCredentials, unary } from '../../client/index.js';

type Unary<Req, Res> = Parameters<typeof unary<Req, Res>>[0];

/** A master client whose calls return promises, optionally carrying a token. */
export class TestMasterClient {
  readonly raw: GridMasterClient;

  /** `creds` and `options`: a TLS channel (test/hosts), else an insecure one. */
  constructor(address: string, private readonly token?: string, creds: ChannelCredentials = insecureCredentials, options: ChannelOptions = {}) {
    this.raw = new GridMasterClient(address, creds, options);
  }

  private call<Req, Res>(method: unknown, request: Req, timeoutMs = 10_000): Promise<Res> {
    return unary(method as Unary<Req, Res>, this.raw, request, this.token, timeoutMs);
  }

  register(agent: AgentInfo, nodes: NodeInfo[] = []): Promise<pb.RegisterAgentResponse> {
    return this.call(this.raw.registerAgent, { agent, nodes });
  }

  heartbeat(agentId: string, nodes: NodeInfo[] = []): Promise<pb.HeartbeatResponse> {
    return this.call(this.raw.heartbeat, { agentId, nodes });
  }

  unregister(agentId: string): Promise<pb.UnregisterAgentResponse> {
    return this.call(this.raw.unregisterAgent, { agentId });
  }

  cordon(agentId: string, reason = ''): Promise<pb.CordonAgentResponse> {
    return this.call(this.raw.cordonAgent, { agentId, reason });
  }

  drain(agentId: string, deadlineMs = 0, reason = ''): Promise<pb.DrainAgentResponse> {
    return this.call(this.raw.drainAgent, { agentId, deadlineMs, reason });
  }

  uncordon(agentId: string): Promise<pb.UncordonAgentResponse> {
    return this.call(this.raw.uncordonAgent, { agentId });
  }

  listAgents(): Promise<pb.ListAgentsResponse> {
    return this.call(this.raw.listAgents, {});
  }

  listNodes(agentId = '', cluster = ''): Promise<pb.ListStorageNodesResponse> {
    return this.call(this.raw.listNodes, { agentId, cluster });
  }

  clusterStatus(): Promise<pb.GetClusterStatusResponse> {
    return this.call(this.raw.getClusterStatus, {});
  }

  spawn(req: Partial<pb.SpawnStorageNodeRequest> & { agentId: string }, timeoutMs = 40_000): Promise<pb.SpawnStorageNodeResponse> {
    return this.call(this.raw.spawnStorageNode, { port: 0, memoryMb: 0, storagePath: '', nodeId: '', ...req }, timeoutMs);
  }

  stop(nodeId: string, graceMs = 0): Promise<pb.StopStorageNodeResponse> {
    return this.call(this.raw.stopStorageNode, { nodeId, graceMs }, 30_000);
  }

  nodeStatus(nodeId: string): Promise<pb.GetStorageNodeStatusResponse> {
    return this.call(this.raw.getStorageNodeStatus, { nodeId });
  }

  getSpec(): Promise<pb.GetSpecResponse> {
    return this.call(this.raw.getSpec, {});
  }

  applySpec(specJson: string, expectedGeneration?: number, dryRun = false, timeoutMs?: number): Promise<pb.ApplySpecResponse> {
    return this.call(this.raw.applySpec, { specJson, expectedGeneration, dryRun }, timeoutMs);
  }

  deleteSpec(expectedGeneration?: number, gridName = ''): Promise<pb.DeleteSpecResponse> {
    return this.call(this.raw.deleteSpec, { expectedGeneration, gridName });
  }

  close(): void {
    this.raw.close();
  }
}

/** An AgentInfo with sensible defaults for a fake agent. */
export function fakeAgent(agentId: string, overrides: Partial<AgentInfo> = {}): AgentInfo {
  return {
    agentId,
    hostname: 'test-host',
    platform: 'process',
    address: '127.0.0.1:1',
    capacity: { maxNodes: 4, memoryMb: 0 },
    version: 'test',
    labels: {},
    portRangeStart: 0,
    portRangeSize: 0,
    ...overrides,
  };
}

/** A NodeInfo with sensible defaults. */
export function fakeNode(nodeId: string, agentId: string, overrides: Partial<NodeInfo> = {}): NodeInfo {
  return {
    nodeId,
    agentId,
    port: 0,
    pid: 0,
    status: 'running',
    storagePath: `/tmp/${nodeId}`,
    memoryMb: 0,
    restarts: 0,
    startedAtMs: Date.now(),
    cluster: '',
    role: '',
    lastExit: '',
    containerId: '',
    generation: 0,
    ...overrides,
  };
}
