import type { LiveAgent, LiveNode, LiveState } from '../../../plan/index.js';
import type { NodeRole, Platform } from '../../../schema/index.js';
import type { AgentRegistry } from '../agent-registry.js';

const ROLES = new Set<string>(['standalone', 'leader', 'replica']);

/**
 * The grid as the master sees it, in the plan engine's terms. Roles of leader-replicas clusters
 * come from the master's own leader record (a promotion changes no process, only who leads).
 */
export function buildLiveState(
  registry: AgentRegistry,
  leaders: Readonly<Record<string, string>>,
  offlineAfterMs: number,
  nowMs: number,
): LiveState {
  const agents: LiveAgent[] = registry.list().map((a) => {
    const silent = nowMs - a.lastHeartbeatMs;
    const start = a.info.portRangeStart;
    return {
      id: a.info.agentId,
      platform: a.info.platform as Platform,
      health: a.health,
      offlineForMs: a.health === 'offline' ? Math.max(0, silent - offlineAfterMs) : 0,
      capacity: { nodes: a.info.capacity.maxNodes, memoryMb: a.info.capacity.memoryMb },
      labels: a.info.labels,
      ...(start > 0 && a.info.portRangeSize > 0 ? { portRange: { start, end: start + a.info.portRangeSize - 1 } } : {}),
    };
  });
  const nodes: LiveNode[] = registry.nodes.list().map((n) => {
    const leader = n.cluster !== '' ? leaders[n.cluster] : undefined;
    const reported = ROLES.has(n.role) ? (n.role as NodeRole) : '';
    const role: NodeRole | '' = leader === undefined || reported === 'standalone' || reported === '' ? reported : n.nodeId === leader ? 'leader' : 'replica';
    return {
      nodeId: n.nodeId,
      agentId: n.agentId,
      cluster: n.cluster,
      role,
      status: n.status,
      port: n.port,
      memoryMb: n.memoryMb,
      restarts: n.restarts,
      generation: n.generation,
      startedAtMs: n.startedAtMs,
    };
  });
  return { agents, nodes };
}
