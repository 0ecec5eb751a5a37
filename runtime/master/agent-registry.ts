import type { AgentDescriptor, NodeView } from '../common/grid-types.js';
import { GridError, RuntimeError } from '../errors.js';
import { quote } from '../common/grpc-edge.js';
import type { AgentHealth } from './master-events.js';
import { NodeTable } from './node-table.js';

/** What the master knows about one registered agent. */
export interface AgentRecord {
  readonly info: AgentDescriptor;
  readonly health: AgentHealth;
  readonly lastHeartbeatMs: number;
  readonly registeredAtMs: number;
}

/** One health change found by {@link AgentRegistry.evaluateHealth} or caused by a heartbeat. */
export interface HealthTransition {
  readonly agentId: string;
  readonly from: AgentHealth;
  readonly to: AgentHealth;
  readonly silentForMs: number;
}

/** Thresholds of the health state machine, in milliseconds. */
export interface HealthThresholds {
  readonly degradedAfterMs: number;
  readonly offlineAfterMs: number;
}

interface MutableRecord {
  info: AgentDescriptor;
  health: AgentHealth;
  lastHeartbeatMs: number;
  registeredAtMs: number;
}

/**
 * Registered agents, their health, and (through {@link nodes}) their last-reported nodes.
 *
 * Health: healthy -> degraded (silent for degradedAfter) -> offline (silent for offlineAfter);
 * any heartbeat or re-registration brings an agent back to healthy (a "recovery").
 */
export class AgentRegistry {
  private readonly agents = new Map<string, MutableRecord>();

  /** The cached node view shared with the handlers. */
  readonly nodes: NodeTable;

  constructor(nodes: NodeTable = new NodeTable()) {
    this.nodes = nodes;
  }

  /**
   * Registers an agent, or updates a known one in place (agent or master restarted), replacing its
   * node list with what it reports. Nothing is started or stopped here.
   * @returns whether the agent was already known, and its health before.
   */
  register(info: AgentDescriptor, nodes: readonly NodeView[], nowMs: number): { known: boolean; previous?: AgentHealth } {
    validateAgentDescriptor(info);
    const existing = this.agents.get(info.agentId);
    if (existing !== undefined) {
      const previous = existing.health;
      existing.info = info;
      existing.health = 'healthy';
      existing.lastHeartbeatMs = nowMs;
      this.nodes.replaceForAgent(info.agentId, nodes, nowMs);
      return { known: true, previous };
    }
    this.agents.set(info.agentId, { info, health: 'healthy', lastHeartbeatMs: nowMs, registeredAtMs: nowMs });
    this.nodes.replaceForAgent(info.agentId, nodes, nowMs);
    return { known: false };
  }

  /**
   * Records a heartbeat and the agent's current nodes.
   * @returns the recovery transition when the agent was degraded or offline.
   * @throws GridError AGENT_NOT_FOUND (gRPC NOT_FOUND) for an unknown agent: it must re-register.
   */
  heartbeat(agentId: string, nodes: readonly NodeView[], nowMs: number): HealthTransition | undefined {
    const record = this.agents.get(agentId);
    if (record === undefined) {
      throw new RuntimeError('AGENT_NOT_FOUND', `agent "${agentId}" is not registered; register first`, { agentId });
    }
    const silentForMs = nowMs - record.lastHeartbeatMs;
    const from = record.health;
    record.lastHeartbeatMs = nowMs;
    record.health = 'healthy';
    this.nodes.replaceForAgent(agentId, nodes, nowMs);
    return from === 'healthy' ? undefined : { agentId, from, to: 'healthy', silentForMs };
  }

  /** Removes an agent and its nodes from the master's view. @returns false when it was unknown. */
  unregister(agentId: string): boolean {
    const had = this.agents.delete(agentId);
    this.nodes.removeAgent(agentId);
    return had;
  }

  /** Forgets every agent and node: each must register again before the master counts it. */
  forgetAll(): void {
    for (const agentId of [...this.agents.keys()]) this.unregister(agentId);
  }

  /**
   * Moves silent agents down the health ladder. `thresholds` may depend on an agent's last
   * heartbeat (an agent not heard from since the policy changed still beats at the old interval).
   * @returns the changes made, for logging and events.
   */
  evaluateHealth(nowMs: number, thresholds: HealthThresholds | ((lastHeartbeatMs: number) => HealthThresholds)): HealthTransition[] {
    const changes: HealthTransition[] = [];
    for (const [agentId, record] of this.agents) {
      const silentForMs = nowMs - record.lastHeartbeatMs;
      const t = typeof thresholds === 'function' ? thresholds(record.lastHeartbeatMs) : thresholds;
      const target: AgentHealth =
        silentForMs >= t.offlineAfterMs ? 'offline' : silentForMs >= t.degradedAfterMs ? 'degraded' : 'healthy';
      // Only heartbeats make an agent healthier; the monitor only degrades.
      if (rank(target) <= rank(record.health)) continue;
      // Report each step, so a listener sees degraded before offline even when the check was late.
      if (record.health === 'healthy' && target === 'offline') {
        changes.push({ agentId, from: 'healthy', to: 'degraded', silentForMs });
        changes.push({ agentId, from: 'degraded', to: 'offline', silentForMs });
      } else {
        changes.push({ agentId, from: record.health, to: target, silentForMs });
      }
      record.health = target;
    }
    return changes;
  }

  /** The agent, or undefined. */
  get(agentId: string): AgentRecord | undefined {
    return this.agents.get(agentId);
  }

  /**
   * The agent.
   * @throws GridError AGENT_NOT_FOUND naming it.
   */
  require(agentId: string): AgentRecord {
    const record = this.agents.get(agentId);
    if (record === undefined) throw new RuntimeError('AGENT_NOT_FOUND', `agent "${agentId}" not found`, { agentId });
    return record;
  }

  /** All agents ordered by id. */
  list(): AgentRecord[] {
    return [...this.agents.values()].sort((a, b) => a.info.agentId.localeCompare(b.info.agentId));
  }

  /** Number of registered agents. */
  get size(): number {
    return this.agents.size;
  }
}

function rank(h: AgentHealth): number {
  return h === 'healthy' ? 0 : h === 'degraded' ? 1 : 2;
}

const AGENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Rejects a registration the master could not use, naming the field. */
function validateAgentDescriptor(info: AgentDescriptor): void {
  const bad = (field: string, why: string): GridError =>
    new RuntimeError('INVALID_ARGUMENT', `${field}: ${why}`, { field, agentId: info.agentId });
  if (!AGENT_ID.test(info.agentId)) {
    throw bad('agent.agent_id', `must be 1-63 letters, digits, ".", "_" or "-", got ${quote(info.agentId)}`);
  }
  if (!/^(\[[^\]]+\]|[^:]+):\d+$/.test(info.address)) {
    throw bad('agent.address', `must be HOST:PORT where the master reaches the agent, got ${quote(info.address)}`);
  }
}
