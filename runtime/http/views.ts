/**
 * What the HTTP API answers, built from the master's domain objects: the shapes the CLI prints
 * with `--json` (runtime/cli/commands/*), each with a few more fields a dashboard needs. The CLI's
 * fields keep their names and meaning, so a script can switch between the two.
 */
import type { AgentCordon, AgentView, NodeView } from '../common/grid-types.js';
import { cordonedBy, drainState, nodeListJson, type CordonOutcome, type GridStatus } from '../../client/index.js';
import { formatEventMessage, type GridEvent } from '../events/index.js';

/** `list-agents --json`: one agent (`nodes` is a count, as there) with its cordon. */
export function agentJson(a: AgentView, cordon: AgentCordon | undefined): Record<string, unknown> {
  return {
    id: a.info.agentId,
    status: a.health,
    cordoned: cordon !== undefined,
    cordonedBy: cordonedBy(cordon),
    cordonReason: cordon?.reason ?? '',
    drain: drainState(cordon),
    drainDeadlineMs: cordon?.drainDeadlineMs ?? 0,
    platform: a.info.platform,
    maxNodes: a.info.capacity.maxNodes,
    nodes: a.nodes.length,
    address: a.info.address,
    hostname: a.info.hostname,
    maxMemoryMb: a.info.capacity.memoryMb,
    labels: { ...a.info.labels },
    version: a.info.version,
    lastHeartbeatMs: a.lastHeartbeatMs,
    registeredAtMs: a.registeredAtMs,
  };
}

/** `list-nodes --json`: one node, plus how its last run ended and its replication. */
export function nodeJson(n: NodeView): Record<string, unknown> {
  return {
    ...nodeListJson(n),
    lastExit: n.lastExit,
    startedAtMs: n.startedAtMs,
    generation: n.generation,
    ...(n.replication !== undefined ? { replication: { ...n.replication } } : {}),
  };
}

/** `status --json`, plus the clusters, the applied generation and the reconciler's progress. */
export function statusJson(s: GridStatus): Record<string, unknown> {
  return {
    agents: { total: s.agentsTotal, healthy: s.agentsHealthy, degraded: s.agentsDegraded, offline: s.agentsOffline },
    nodes: { total: s.nodesTotal, running: s.nodesRunning, failed: s.nodesFailed },
    health: s.health,
    // As the CLI: only when something is wrong, so the healthy shape stays what scripts parse.
    ...(s.eventsDropped > 0 || s.eventStoreError !== '' ? { events: { dropped: s.eventsDropped, storeError: s.eventStoreError } } : {}),
    ...(s.reconcile.rollouts.length > 0 ? { rollouts: s.reconcile.rollouts.map((r) => ({ ...r })) } : {}),
    clusters: s.clusters.map((c) => ({ ...c })),
    specGeneration: s.specGeneration,
    reconcile: {
      generation: s.reconcile.generation,
      pendingActions: s.reconcile.pendingActions,
      unplaced: s.reconcile.unplaced.map((u) => ({ ...u, nodeIds: [...u.nodeIds] })),
      rollouts: s.reconcile.rollouts.map((r) => ({ ...r })),
    },
  };
}

/** `cordon --json` / `uncordon --json`: the agent's cordon after the call. */
export function cordonJson(agentId: string, o: CordonOutcome): Record<string, unknown> {
  return { agentId, cordoned: o.cordon !== undefined, by: cordonedBy(o.cordon), reason: o.cordon?.reason ?? '', changed: o.changed };
}

/** `events --json`: one event, the wire's fields with the payload parsed. */
export function eventJson(e: GridEvent): Record<string, unknown> {
  return {
    index: e.index,
    timestampUs: e.timestampUs,
    type: e.type,
    severity: e.severity,
    agentId: e.agentId,
    nodeId: e.nodeId,
    cluster: e.cluster,
    count: e.count,
    lastSeenUs: e.lastSeenUs,
    message: formatEventMessage(e),
    payload: e.payload,
  };
}
