/**
 * Cheap structural checks of the engine's inputs. The spec normally comes from the schema
 * compiler, but the Pulumi provider and the wire also feed this engine, so a contradiction is
 * refused with the field named instead of producing a nonsense plan.
 */
import { SPEC_LIMITS, type CompiledGridSpec } from '../schema/index.js';
import { PlanError } from './errors.js';
import type { LiveState, PlanOptions } from './types.js';

const HEALTH = new Set(['healthy', 'degraded', 'offline']);
const STATUS = new Set(['starting', 'running', 'restarting', 'stopping', 'stopped', 'failed']);
const ROLE = new Set(['', 'leader', 'replica', 'standalone']);

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0;
}

/** A count within [0, max]. */
function isCountUpTo(n: unknown, max: number): n is number {
  return isCount(n) && n <= max;
}

/**
 * Throws {@link PlanError} `PLAN_INVALID_SPEC` naming the first contradiction found, or the first
 * size past `SPEC_LIMITS`. The compiler refuses those already; checking again here, before any
 * ordinal is allocated, keeps a spec that reached the engine another way (the Pulumi provider, a
 * stored spec) from making it allocate without bound.
 */
export function validateSpec(spec: CompiledGridSpec): void {
  if (spec.agents.length > SPEC_LIMITS.maxAgents) {
    throw new PlanError('PLAN_INVALID_SPEC', 'spec.agents', `at most ${SPEC_LIMITS.maxAgents} agents, got ${spec.agents.length}`);
  }
  if (spec.clusters.length > SPEC_LIMITS.maxClusters) {
    throw new PlanError('PLAN_INVALID_SPEC', 'spec.clusters', `at most ${SPEC_LIMITS.maxClusters} clusters, got ${spec.clusters.length}`);
  }
  const agentIds = new Set<string>();
  spec.agents.forEach((a, i) => {
    if (!a.id) throw new PlanError('PLAN_INVALID_SPEC', `spec.agents[${i}].id`, 'must not be empty');
    if (agentIds.has(a.id)) throw new PlanError('PLAN_INVALID_SPEC', `spec.agents[${i}].id`, `duplicate agent id ${a.id}`);
    agentIds.add(a.id);
    if (!isCountUpTo(a.capacity.nodes, SPEC_LIMITS.maxAgentCapacityNodes)) {
      throw new PlanError('PLAN_INVALID_SPEC', `spec.agents[${i}].capacity.nodes`, `must be an integer from 0 to ${SPEC_LIMITS.maxAgentCapacityNodes}`);
    }
    if (!isCount(a.capacity.memoryMb)) throw new PlanError('PLAN_INVALID_SPEC', `spec.agents[${i}].capacity.memoryMb`, 'must be an integer >= 0');
  });
  const clusterNames = new Set<string>();
  let totalNodes = 0;
  spec.clusters.forEach((c, i) => {
    if (!c.name) throw new PlanError('PLAN_INVALID_SPEC', `spec.clusters[${i}].name`, 'must not be empty');
    if (clusterNames.has(c.name)) throw new PlanError('PLAN_INVALID_SPEC', `spec.clusters[${i}].name`, `duplicate cluster name ${c.name}`);
    clusterNames.add(c.name);
    if (!isCountUpTo(c.nodes, SPEC_LIMITS.maxNodesPerCluster)) {
      throw new PlanError('PLAN_INVALID_SPEC', `spec.clusters[${i}].nodes`, `must be an integer from 0 to ${SPEC_LIMITS.maxNodesPerCluster}`);
    }
    totalNodes += c.nodes;
    if (!isCount(c.memoryMb)) throw new PlanError('PLAN_INVALID_SPEC', `spec.clusters[${i}].memoryMb`, 'must be an integer >= 0');
  });
  if (totalNodes > SPEC_LIMITS.maxTotalNodes) {
    throw new PlanError('PLAN_INVALID_SPEC', 'spec.clusters', `at most ${SPEC_LIMITS.maxTotalNodes} nodes in all clusters, got ${totalNodes}`);
  }
  const { start, end } = spec.storage.portRange;
  if (!isCount(start) || !isCount(end) || end < start) {
    throw new PlanError('PLAN_INVALID_SPEC', 'spec.storage.portRange', `invalid range ${start}-${end}`);
  }
}

/** Throws {@link PlanError} `PLAN_INVALID_LIVE_STATE` naming the first malformed entry. */
export function validateLive(live: LiveState): void {
  const agentIds = new Set<string>();
  live.agents.forEach((a, i) => {
    if (!a.id) throw new PlanError('PLAN_INVALID_LIVE_STATE', `live.agents[${i}].id`, 'must not be empty');
    if (agentIds.has(a.id)) throw new PlanError('PLAN_INVALID_LIVE_STATE', `live.agents[${i}].id`, `duplicate agent id ${a.id}`);
    agentIds.add(a.id);
    if (!HEALTH.has(a.health)) throw new PlanError('PLAN_INVALID_LIVE_STATE', `live.agents[${i}].health`, `unknown health ${JSON.stringify(a.health)}`);
    if (!(a.offlineForMs >= 0)) throw new PlanError('PLAN_INVALID_LIVE_STATE', `live.agents[${i}].offlineForMs`, 'must be >= 0');
  });
  for (const [agentId, reason] of Object.entries(live.cordons ?? {})) {
    if (!agentId) throw new PlanError('PLAN_INVALID_LIVE_STATE', 'live.cordons', 'agent id must not be empty');
    if (typeof reason !== 'string') throw new PlanError('PLAN_INVALID_LIVE_STATE', `live.cordons.${agentId}`, 'reason must be a string');
  }
  for (const [agentId, deadline] of Object.entries(live.draining ?? {})) {
    if (!agentId) throw new PlanError('PLAN_INVALID_LIVE_STATE', 'live.draining', 'agent id must not be empty');
    if (!isCount(deadline)) throw new PlanError('PLAN_INVALID_LIVE_STATE', `live.draining.${agentId}`, 'deadline must be an integer >= 0 (ms since the epoch)');
  }
  const seen = new Set<string>();
  live.nodes.forEach((n, i) => {
    if (!n.nodeId) throw new PlanError('PLAN_INVALID_LIVE_STATE', `live.nodes[${i}].nodeId`, 'must not be empty');
    if (!STATUS.has(n.status)) throw new PlanError('PLAN_INVALID_LIVE_STATE', `live.nodes[${i}].status`, `unknown status ${JSON.stringify(n.status)}`);
    if (!ROLE.has(n.role)) throw new PlanError('PLAN_INVALID_LIVE_STATE', `live.nodes[${i}].role`, `unknown role ${JSON.stringify(n.role)}`);
    if (!isCount(n.memoryMb)) throw new PlanError('PLAN_INVALID_LIVE_STATE', `live.nodes[${i}].memoryMb`, 'must be an integer >= 0');
    const r = n.replication;
    if (r !== undefined && !(isCount(r.term) && isCount(r.lastLogTerm) && isCount(r.logPosition))) {
      throw new PlanError('PLAN_INVALID_LIVE_STATE', `live.nodes[${i}].replication`, 'term, lastLogTerm and logPosition must be integers >= 0');
    }
    // One agent cannot run two copies of one node id; two agents can (that is what the diff resolves).
    const key = `${n.agentId}\u0000${n.nodeId}`;
    if (seen.has(key)) throw new PlanError('PLAN_INVALID_LIVE_STATE', `live.nodes[${i}]`, `node ${n.nodeId} reported twice by agent ${n.agentId}`);
    seen.add(key);
  });
}

/** Throws {@link PlanError} `PLAN_INVALID_OPTIONS` for out-of-range options. */
export function validateOptions(opts: PlanOptions): void {
  if (opts.replaceAfterMs !== undefined && !(opts.replaceAfterMs >= 0)) {
    throw new PlanError('PLAN_INVALID_OPTIONS', 'opts.replaceAfterMs', `must be >= 0, got ${opts.replaceAfterMs}`);
  }
}
