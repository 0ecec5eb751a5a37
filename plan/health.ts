/**
 * Cluster health as the master reports it (GetClusterStatus): a pure verdict over the nodes it
 * currently sees, so the CLI, the master and tests agree on what "healthy" means.
 */
import type { CompiledClusterSpec } from '../schema/index.js';
import { nodeIdFor, ordinalOf } from './node-identity.js';
import type { LiveNode } from './types.js';

/** `healthy`: every declared node runs; `critical`: none runs, or the leader is missing; else `degraded`. */
export type ClusterHealthState = 'healthy' | 'degraded' | 'critical';

/** What the master reports per cluster (mirrors the wire's ClusterHealth). */
export interface ClusterStatus {
  readonly name: string;
  readonly desired: number;
  /** Declared ordinals with at least one running copy (a duplicate counts once). */
  readonly running: number;
  readonly health: ClusterHealthState;
  /** The running leader's node id; empty when none (or the cluster is standalone). */
  readonly leaderNodeId: string;
}

/**
 * Status of `cluster` given `nodes` (any nodes: those of other clusters and those beyond the
 * declared count are ignored). A cluster declaring 0 nodes is healthy.
 */
export function clusterStatus(cluster: CompiledClusterSpec, nodes: readonly LiveNode[]): ClusterStatus {
  const running = new Set<number>();
  let leader: number | undefined;
  for (const n of nodes) {
    if (n.cluster !== cluster.name || n.status !== 'running') continue;
    const o = ordinalOf(cluster.name, n.nodeId);
    if (o === undefined || o >= cluster.nodes) continue;
    running.add(o);
    if (n.role === 'leader' && (leader === undefined || o < leader)) leader = o;
  }
  const needsLeader = cluster.topology === 'leader-replicas' && cluster.nodes > 0;
  let health: ClusterHealthState;
  if (cluster.nodes === 0) health = 'healthy';
  else if (running.size === 0 || (needsLeader && leader === undefined)) health = 'critical';
  else health = running.size === cluster.nodes ? 'healthy' : 'degraded';
  return {
    name: cluster.name,
    desired: cluster.nodes,
    running: running.size,
    health,
    leaderNodeId: needsLeader && leader !== undefined ? nodeIdFor(cluster.name, leader) : '',
  };
}

/** Just the verdict of {@link clusterStatus}. */
export function clusterHealth(cluster: CompiledClusterSpec, nodes: readonly LiveNode[]): ClusterHealthState {
  return clusterStatus(cluster, nodes).health;
}
