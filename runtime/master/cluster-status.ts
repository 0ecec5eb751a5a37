import type { GridStatus } from '../../client/index.js';
import type { NodeStatus } from '../../plan/index.js';
import type { NodeView } from '../common/grid-types.js';
import type { AgentRegistry } from './agent-registry.js';
import type { AgentHealth } from './master-events.js';

/** Overall grid health. */
export type GridHealth = 'healthy' | 'degraded' | 'critical';

/** Agents and nodes counted, and the grid's grade: GetClusterStatus without the spec's part. */
export type GridCounts = Omit<GridStatus, 'clusters' | 'specGeneration' | 'eventsDropped' | 'eventStoreError' | 'reconcile'>;

/**
 * Counts agents and nodes and grades the grid:
 * - `critical`: no agent is healthy (including: no agent registered at all);
 * - `healthy`: every agent is healthy and no node is failed;
 * - `degraded`: anything in between (some agent degraded/offline, or some node failed).
 *
 * Nodes of offline agents are counted in `nodesTotal` (the master last saw them) but never as
 * running, since nobody can vouch for them. `statusOf` says how a node counts: the declarative
 * control counts a replica still catching up as starting, as its clusters and ListNodes do.
 */
export function computeClusterStatus(registry: AgentRegistry, statusOf: (n: NodeView) => NodeStatus = (n) => n.status): GridCounts {
  let healthy = 0;
  let degraded = 0;
  let offline = 0;
  let nodesTotal = 0;
  let running = 0;
  let failed = 0;
  const healthOf = new Map<string, AgentHealth>();
  for (const agent of registry.list()) {
    if (agent.health === 'healthy') healthy++;
    else if (agent.health === 'degraded') degraded++;
    else offline++;
    healthOf.set(agent.info.agentId, agent.health);
  }
  // One pass over the nodes, not a sorted list per agent: at 10,000 nodes that was ~10 ms a call.
  registry.nodes.each((node) => {
    const health = healthOf.get(node.agentId);
    if (health === undefined) return;
    nodesTotal++;
    const status = statusOf(node);
    if (status === 'failed') failed++;
    else if (status === 'running' && health !== 'offline') running++;
  });
  const total = registry.size;
  const health: GridHealth = healthy === 0 ? 'critical' : healthy === total && failed === 0 ? 'healthy' : 'degraded';
  return {
    agentsTotal: total,
    agentsHealthy: healthy,
    agentsDegraded: degraded,
    agentsOffline: offline,
    nodesTotal,
    nodesRunning: running,
    nodesFailed: failed,
    health,
  };
}
