/**
 * The second step of "options in two steps": a validated, defaulted spec becomes the internal
 * `CompiledGridSpec` (milliseconds, MiB, every default filled in).
 */
import type { CompiledAgentSpec, CompiledClusterSpec, CompiledGridSpec, CompiledReplication } from './compiled-spec.js';
import type { GridSpecDefaulted } from './spec-types.js';
import { parseDuration, parseSize } from './units.js';

/**
 * Converts a spec that passed every check, with schema defaults applied. Not exported from the
 * barrel: callers use `compileGridSpec`, which validates first.
 */
export function compileDefaulted(spec: GridSpecDefaulted): CompiledGridSpec {
  const { monitoring, storage } = spec;
  const storageMemoryMb = parseSize(storage.memory, 'storage.memory');
  const agents = spec.agents.map((agent, i): CompiledAgentSpec => ({
    id: agent.id,
    platform: agent.platform,
    ...(agent.address !== undefined ? { address: agent.address } : {}),
    capacity: {
      nodes: agent.capacity.nodes,
      memoryMb: agent.capacity.memory === undefined ? 0 : parseSize(agent.capacity.memory, `agents[${i}].capacity.memory`),
    },
    labels: { ...(agent.labels as Record<string, string>) },
    ...(agent.cordoned ? { cordoned: true } : {}),
  }));
  const clusters = spec.clusters.map((cluster, i): CompiledClusterSpec => ({
    name: cluster.name,
    nodes: cluster.nodes,
    topology: cluster.topology,
    replication: compileReplication(cluster, `clusters[${i}].replication`),
    update: {
      maxUnavailable: cluster.update.maxUnavailable,
      maxSurge: cluster.update.maxSurge,
      minHealthyMs: parseDuration(cluster.update.minHealthyTime, `clusters[${i}].update.minHealthyTime`),
      healthyDeadlineMs: parseDuration(cluster.update.healthyDeadline, `clusters[${i}].update.healthyDeadline`),
      autoRevert: cluster.update.autoRevert,
    },
    memoryMb: cluster.memory === undefined ? storageMemoryMb : parseSize(cluster.memory, `clusters[${i}].memory`),
    placement: {
      strategy: cluster.placement.strategy,
      agents: [...cluster.placement.agents],
      selector: { ...(cluster.placement.selector as Record<string, string>) },
    },
  }));
  return {
    name: spec.name,
    master: { address: spec.master.address },
    monitoring: {
      heartbeatIntervalMs: parseDuration(monitoring.heartbeatInterval, 'monitoring.heartbeatInterval'),
      degradedAfterMs: parseDuration(monitoring.degradedAfter, 'monitoring.degradedAfter'),
      offlineAfterMs: parseDuration(monitoring.offlineAfter, 'monitoring.offlineAfter'),
      replaceAfterMs: parseDuration(monitoring.replaceAfter, 'monitoring.replaceAfter'),
      restart: {
        maxRestarts: monitoring.restart.maxRestarts,
        windowMs: parseDuration(monitoring.restart.window, 'monitoring.restart.window'),
        backoffMs: parseDuration(monitoring.restart.backoff, 'monitoring.restart.backoff'),
      },
    },
    storage: {
      ...(storage.binary !== undefined ? { binary: storage.binary } : {}),
      dataPath: storage.dataPath,
      memoryMb: storageMemoryMb,
      portRange: { start: storage.portRange.start, end: storage.portRange.end },
    },
    agents,
    clusters,
  };
}

/** A sync write waits this long for its quorum unless the spec says otherwise. */
export const DEFAULT_SYNC_TIMEOUT_MS = 5_000;

/**
 * The careful default: a cluster with replicas acknowledges a write once one replica holds it too
 * (losing any one host loses no acknowledged write); a cluster of one node cannot wait for a
 * replica, so it acknowledges once the leader holds it.
 */
function compileReplication(cluster: GridSpecDefaulted['clusters'][number], field: string): CompiledReplication {
  const r = cluster.replication;
  const hasReplicas = cluster.topology === 'leader-replicas' && cluster.nodes > 1;
  return {
    durability: r?.durability ?? (hasReplicas ? 'sync' : 'async'),
    syncQuorum: r?.syncQuorum ?? 1,
    syncTimeoutMs: r?.syncTimeout === undefined ? DEFAULT_SYNC_TIMEOUT_MS : parseDuration(r.syncTimeout, `${field}.syncTimeout`),
  };
}
