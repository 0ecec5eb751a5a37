/**
 * The live grid as the `Grid` resource's outputs (placements, per-cluster health), and a plan as
 * the lines `pulumi preview --diff` shows. Pure: the reads and the waits are the client layer's.
 */
import type { GridNode, GridView } from '../../client/index.js';
import { renderAction, type Plan } from '../../plan/index.js';
import { declaredClusters, type ClusterHealthOutput, type Placement } from './grid-inputs.js';

/** What the master reports about the grid, in output form. */
export interface LiveGrid {
  readonly placements: Placement[];
  readonly clusterHealth: ClusterHealthOutput[];
  readonly health: string;
  readonly specGeneration: number;
}

/** One line per planned action and per unplaceable cluster, as `pulumi preview --diff` shows them. */
export function planLines(plan: Plan): string[] {
  return [...plan.actions.map((a) => renderAction(a).trim()), ...plan.unplaced.map((u) => `! ${u.reason}`)];
}

function toPlacement(n: GridNode): Placement {
  return { nodeId: n.nodeId, agentId: n.agentId, port: n.port, role: n.role, cluster: n.cluster, status: n.status, memoryMb: n.memoryMb };
}

/** The live grid restricted to the clusters `spec` declares, in a stable order. */
export function liveGrid(spec: unknown, { nodes, status }: GridView): LiveGrid {
  const names = new Set(declaredClusters(spec).map((c) => c.name));
  const placements = nodes
    .filter((n) => names.has(n.cluster))
    .map(toPlacement)
    .sort((a, b) => a.cluster.localeCompare(b.cluster) || a.nodeId.localeCompare(b.nodeId) || a.agentId.localeCompare(b.agentId));
  const clusterHealth = status.clusters
    .filter((c) => names.has(c.name))
    .map((c) => ({ name: c.name, desired: c.desired, running: c.running, health: c.health, leaderNodeId: c.leaderNodeId }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { placements, clusterHealth, health: status.health, specGeneration: status.specGeneration };
}
