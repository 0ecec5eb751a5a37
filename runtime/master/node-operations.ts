import { randomBytes } from 'node:crypto';
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { GridError, grpcStatusOf, RuntimeError } from '../errors.js';
import { statusName } from '../../client/transport.js';
import type { ConfigureRequest, NodeView, ReplicationSettings } from '../common/grid-types.js';
import type { Logger } from '../common/logger.js';
import type { AgentClientPool } from './agent-client-pool.js';
import type { AgentRecord, AgentRegistry } from './agent-registry.js';
import { emitSafely, type MasterEvents } from './master-events.js';
import { observe, secondsSince, type MasterMetrics } from './master-metrics.js';

/** What to spawn. Everything but `agentId` is optional; zero/empty means "let the agent choose". */
export interface SpawnNodeInput {
  readonly agentId: string;
  readonly port?: number;
  readonly memoryMb?: number;
  readonly storagePath?: string;
  readonly nodeId?: string;
  readonly cluster?: string;
  readonly role?: string;
  readonly generation?: number;
  /** The grid's name and the replication settings of a leader or replica; unset for any other node. */
  readonly grid?: string;
  readonly replication?: ReplicationSettings;
  /**
   * The reconciler replacing a node: a copy on another agent (offline, or about to be stopped) does
   * not block the spawn. Imperative spawns leave this unset and get NODE_EXISTS.
   */
  readonly replacing?: boolean;
}

/** A node status answer: live from the agent, or the master's cached value marked stale. */
export interface NodeStatusResult {
  readonly node: NodeView;
  readonly stale: boolean;
}

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Statuses after which the agent could not be asked; the cached value is still worth showing. */
const UNREACHABLE = new Set<number>([GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED]);

/**
 * The master's node operations: validate against what the master knows, forward to the agent, keep
 * the node table current, and tell {@link MasterEvents}. The gRPC handlers and (later) the
 * reconciler both go through here.
 */
export class NodeOperations {
  /** `agentId\0nodeId` of every spawn under way: the agent asks for the node's certificate meanwhile. */
  readonly #placing = new Set<string>();

  constructor(
    private readonly registry: AgentRegistry,
    private readonly pool: AgentClientPool,
    private readonly events: MasterEvents,
    private readonly logger: Logger,
    /** How long a freshly spawned node survives a heartbeat that does not list it yet (ms), as the policy in force says now. */
    private readonly pinMs: () => number,
    /** Told how long each spawn and stop took. */
    private readonly metrics?: MasterMetrics,
  ) {}

  /**
   * Whether `agentId` runs node `nodeId`, or is being asked to start it now: the only agent a node
   * certificate for `nodeId` is issued to (a compromised agent cannot get one for another's node).
   */
  runsOn(nodeId: string, agentId: string): boolean {
    return this.#placing.has(`${agentId}\u0000${nodeId}`) || this.registry.nodes.get(nodeId, agentId) !== undefined;
  }

  /**
   * Spawns a node on an agent.
   * @throws GridError AGENT_NOT_FOUND / AGENT_NOT_HEALTHY / PORT_OUT_OF_RANGE / INVALID_ARGUMENT /
   * NODE_EXISTS / CAPACITY_EXCEEDED, or the agent's own status with the agent named.
   */
  async spawn(input: SpawnNodeInput): Promise<NodeView> {
    if (!input.agentId) throw new RuntimeError('INVALID_ARGUMENT', 'agent_id: is required', { field: 'agent_id' });
    const agent = this.registry.require(input.agentId);
    const agentId = agent.info.agentId;
    if (agent.health !== 'healthy') {
      throw new RuntimeError('AGENT_NOT_HEALTHY', `agent "${agentId}" is ${agent.health}; refusing to spawn on it`, { agentId });
    }
    const port = input.port ?? 0;
    if (!Number.isInteger(port) || (port !== 0 && (port < 1024 || port > 65535))) {
      throw new RuntimeError('PORT_OUT_OF_RANGE', `port: ${port} is out of range (0 = pick a free one, or 1024-65535)`, { field: 'port', agentId });
    }
    const nodeId = input.nodeId || `node-${randomBytes(4).toString('hex')}`;
    if (!NODE_ID.test(nodeId)) {
      throw new RuntimeError('INVALID_ARGUMENT', `node_id: must be 1-63 letters, digits, ".", "_" or "-", got ${JSON.stringify(nodeId)}`, { field: 'node_id' });
    }
    const existing = this.registry.nodes.get(nodeId, agentId) ?? this.registry.nodes.get(nodeId);
    if (existing !== undefined && existing.agentId !== agentId && input.replacing !== true) {
      throw new RuntimeError('NODE_EXISTS', `node "${nodeId}" already exists on agent "${existing.agentId}"`, { nodeId, agentId: existing.agentId });
    }
    this.checkCapacity(agent, input.memoryMb ?? 0, existing?.agentId !== agentId);

    emitSafely(this.events, 'spawnRequested', { agentId, nodeId, port, cluster: input.cluster ?? '' }, this.onListenerError);
    this.logger.info({ agentId, nodeId, port }, `spawning node ${nodeId} on agent ${agentId}`);
    const started = process.hrtime.bigint();
    this.#placing.add(`${agentId}\u0000${nodeId}`);
    try {
      const spawned = await this.pool.spawnNode(agentId, agent.info.address, {
        nodeId,
        port,
        memoryMb: input.memoryMb ?? 0,
        storagePath: input.storagePath ?? '',
        cluster: input.cluster ?? '',
        role: input.role ?? '',
        generation: input.generation ?? 0,
        grid: input.grid ?? '',
        ...(input.replication ?? { leaderAddress: '', term: 0, durability: '', syncQuorum: 0, syncTimeoutMs: 0 }),
      });
      const node = { ...spawned, agentId };
      this.registry.nodes.upsert(node, Date.now(), this.pinMs());
      observe(this.metrics, 'nodeOperation', { op: 'spawn', seconds: secondsSince(started), ok: true });
      emitSafely(this.events, 'spawnSucceeded', { agentId, node }, this.onListenerError);
      this.logger.info({ agentId, nodeId: node.nodeId, port: node.port, pid: node.pid }, `node ${node.nodeId} is ${node.status} on agent ${agentId} (port ${node.port}, pid ${node.pid})`);
      return node;
    } catch (err) {
      observe(this.metrics, 'nodeOperation', { op: 'spawn', seconds: secondsSince(started), ok: false });
      const wrapped = agentCallError(agentId, agent.info.address, 'spawn', err);
      emitSafely(this.events, 'spawnFailed', { agentId, nodeId, cluster: input.cluster ?? '', code: wrapped.code, message: wrapped.details }, this.onListenerError);
      this.logger.warn({ agentId, nodeId, code: statusName(wrapped.code) }, `spawn of ${nodeId} on agent ${agentId} failed: ${wrapped.details}`);
      throw wrapped;
    } finally {
      this.#placing.delete(`${agentId}\u0000${nodeId}`);
    }
  }

  /**
   * Stops a node through its agent.
   * @throws GridError NODE_NOT_FOUND / AGENT_NOT_FOUND, or the agent's own status with the agent named.
   */
  async stop(nodeId: string, graceMs = 0, agentId?: string): Promise<NodeView> {
    const cached = this.requireNode(nodeId, agentId);
    const agent = this.registry.require(cached.agentId);
    agentId = agent.info.agentId;
    emitSafely(this.events, 'stopRequested', { agentId, nodeId, cluster: cached.cluster }, this.onListenerError);
    this.logger.info({ agentId, nodeId }, `stopping node ${nodeId} on agent ${agentId}`);
    const started = process.hrtime.bigint();
    try {
      const node = { ...(await this.pool.stopNode(agentId, agent.info.address, { nodeId, graceMs })), agentId };
      // Pinned: a beat assembled while the node was still stopping must not list it again.
      this.registry.nodes.upsert(node, Date.now(), this.pinMs());
      observe(this.metrics, 'nodeOperation', { op: 'stop', seconds: secondsSince(started), ok: true });
      emitSafely(this.events, 'stopSucceeded', { agentId, node }, this.onListenerError);
      this.logger.info({ agentId, nodeId }, `node ${nodeId} on agent ${agentId} is ${node.status}`);
      return node;
    } catch (err) {
      observe(this.metrics, 'nodeOperation', { op: 'stop', seconds: secondsSince(started), ok: false });
      const wrapped = agentCallError(agentId, agent.info.address, 'stop', err);
      emitSafely(this.events, 'stopFailed', { agentId, nodeId, cluster: cached.cluster, code: wrapped.code, message: wrapped.details }, this.onListenerError);
      this.logger.warn({ agentId, nodeId, code: statusName(wrapped.code) }, `stop of ${nodeId} on agent ${agentId} failed: ${wrapped.details}`);
      throw wrapped;
    }
  }

  /**
   * Changes the replication of a node's copy on `agentId` through its agent (ConfigureNode) and
   * records the node as the agent answers.
   * @throws GridError NODE_NOT_FOUND / AGENT_NOT_FOUND, or the agent's own status with the agent named.
   */
  async configure(agentId: string, req: ConfigureRequest): Promise<NodeView> {
    this.requireNode(req.nodeId, agentId);
    const agent = this.registry.require(agentId);
    try {
      const node = { ...(await this.pool.configureNode(agentId, agent.info.address, req)), agentId };
      this.registry.nodes.upsert(node, Date.now());
      this.logger.info({ agentId, nodeId: req.nodeId, role: req.role, term: req.term, leader: req.leaderAddress }, `node ${req.nodeId} on ${agentId}: ${req.role} in term ${req.term}${req.leaderAddress !== '' ? ` following ${req.leaderAddress}` : ''}`);
      return node;
    } catch (err) {
      throw agentCallError(agentId, agent.info.address, 'configure', err);
    }
  }

  /**
   * A node's status, asked of its agent in real time; when the agent cannot be reached (or is
   * offline), the master's cached value with `stale: true`. `agentId` picks one copy of the node.
   * @throws GridError NODE_NOT_FOUND when neither the master nor the agent knows the node.
   */
  async status(nodeId: string, agentId?: string): Promise<NodeStatusResult> {
    const cached = this.requireNode(nodeId, agentId);
    const agent = this.registry.get(cached.agentId);
    if (agent === undefined || agent.health === 'offline') return { node: cached, stale: true };
    try {
      const node = { ...(await this.pool.getNodeStatus(agent.info.agentId, agent.info.address, { nodeId })), agentId: agent.info.agentId };
      this.registry.nodes.upsert(node, Date.now());
      return { node, stale: false };
    } catch (err) {
      const code = (err as ServiceError).code;
      if (typeof code === 'number' && UNREACHABLE.has(code)) return { node: cached, stale: true };
      if (code === GrpcStatus.NOT_FOUND) {
        this.registry.nodes.remove(nodeId, agent.info.agentId);
        throw new RuntimeError('NODE_NOT_FOUND', `node "${nodeId}" not found on agent "${agent.info.agentId}"`, { nodeId, agentId: agent.info.agentId });
      }
      throw agentCallError(agent.info.agentId, agent.info.address, 'status', err);
    }
  }

  private requireNode(nodeId: string, agentId?: string): NodeView {
    if (!nodeId) throw new RuntimeError('INVALID_ARGUMENT', 'node_id: is required', { field: 'node_id' });
    const node = this.registry.nodes.get(nodeId, agentId);
    if (node === undefined) {
      throw new RuntimeError('NODE_NOT_FOUND', `node "${nodeId}" not found${agentId !== undefined ? ` on agent "${agentId}"` : ''}`, { nodeId });
    }
    return node;
  }

  private checkCapacity(agent: AgentRecord, memoryMb: number, isNew: boolean): void {
    if (!isNew) return; // a retried spawn of the same node takes no new slot
    const agentId = agent.info.agentId;
    const maxNodes = agent.info.capacity.maxNodes;
    const active = this.registry.nodes.activeCount(agentId);
    if (maxNodes > 0 && active >= maxNodes) {
      throw new RuntimeError('CAPACITY_EXCEEDED', `agent "${agentId}" is at capacity (${active} of ${maxNodes} nodes)`, { agentId });
    }
    const memoryLimit = agent.info.capacity.memoryMb;
    if (memoryLimit > 0 && memoryMb > 0) {
      const used = this.registry.nodes
        .list({ agentId })
        .filter((n) => n.status !== 'stopped' && n.status !== 'failed')
        .reduce((sum, n) => sum + n.memoryMb, 0);
      if (used + memoryMb > memoryLimit) {
        throw new RuntimeError('CAPACITY_EXCEEDED', `agent "${agentId}" has ${memoryLimit - used} MB of ${memoryLimit} MB free; ${memoryMb} MB requested`, { agentId, field: 'memory_mb' });
      }
    }
  }

  private readonly onListenerError = (err: unknown): void => {
    this.logger.error({ err }, 'a master event listener threw; ignored');
  };
}

/** An error carrying the agent's gRPC status through the master, with the agent named. */
export interface AgentCallError extends Error {
  readonly code: number;
  readonly details: string;
}

/** Wraps an agent call failure: the status passes through, the message names the agent. */
export function agentCallError(agentId: string, address: string, what: string, err: unknown): AgentCallError {
  if (err instanceof GridError) {
    return Object.assign(new Error(err.message), { code: grpcStatusOf(err.code), details: err.message });
  }
  const se = err as Partial<ServiceError>;
  const code = typeof se.code === 'number' ? se.code : GrpcStatus.INTERNAL;
  const reason = se.details || se.message || String(err);
  const details =
    code === GrpcStatus.UNAVAILABLE
      ? `agent "${agentId}" at ${address} is unreachable: ${reason}`
      : code === GrpcStatus.DEADLINE_EXCEEDED
        ? `agent "${agentId}" at ${address} did not answer the ${what} call in time`
        : `agent "${agentId}": ${reason}`;
  return Object.assign(new Error(details), { code, details });
}
