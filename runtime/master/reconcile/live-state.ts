import type { LiveAgent, LiveNode, LiveState, NodeStatus } from '../../../plan/index.js';
import type { NodeView } from '../../common/grid-types.js';
import type { NodeRole, Platform } from '../../../schema/index.js';
import type { AgentRegistry } from '../agent-registry.js';

const ROLES = new Set<string>(['standalone', 'leader', 'replica']);

/**
 * A node's status as the master counts it. A leader or replica its agent runs is `starting` while
 * it still catches up with its leader (a new replica copying the leader's data) or reports a term
 * below its cluster's (not yet told of the current leader): it does not count as running, is not
 * promoted, and `apply` waits for it.
 */
export function countedStatus(n: NodeView, clusterTerm: number | undefined): NodeStatus {
  const r = n.replication;
  if (n.status !== 'running' || r === undefined) return n.status;
  if (r.catchingUp || (clusterTerm !== undefined && r.term < clusterTerm)) return 'starting';
  return n.status;
}

/**
 * The grid as the master sees it, in the plan engine's terms. Roles of leader-replicas clusters
 * come from the master's own leader record (a promotion changes no process, only who leads);
 * statuses as {@link countedStatus} counts them.
 */
export function buildLiveState(
  registry: AgentRegistry,
  leaders: Readonly<Record<string, string>>,
  offlineAfterMs: number,
  nowMs: number,
  terms: Readonly<Record<string, number>> = {},
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
      status: countedStatus(n, n.cluster !== '' ? terms[n.cluster] : undefined),
      port: n.port,
      memoryMb: n.memoryMb,
      restarts: n.restarts,
      generation: n.generation,
      startedAtMs: n.startedAtMs,
      ...(n.replication !== undefined ? { replication: { term: n.replication.term, lastLogTerm: n.replication.lastLogTerm, logPosition: n.replication.logPosition } } : {}),
    };
  });
  return { agents, nodes };
}
