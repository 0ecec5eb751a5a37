/**
 * Cheap structural checks of the engine's inputs. The spec normally comes from the schema
 * compiler, but the Pulumi provider and the wire also feed this engine, so a contradiction is
 * refused with the field named instead of producing a nonsense plan.
 */
import type { CompiledGridSpec } from '../../schema/index.js';
import { PlanError } from './errors.js';
import type { LiveState, PlanOptions } from './types.js';

const HEALTH = new Set(['healthy', 'degraded', 'offline']);
const STATUS = new Set(['starting', 'running', 'restarting', 'stopping', 'stopped', 'failed']);
const ROLE = new Set(['', 'leader', 'replica', 'standalone']);

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0;
}

/** Throws {@link PlanError} `PLAN_INVALID_SPEC` naming the first contradiction found. */
export function validateSpec(spec: CompiledGridSpec): void {
  const agentIds = new Set<string>();
  spec.agents.forEach((a, i) => {
    if (!a.id) throw new PlanError('PLAN_INVALID_SPEC', `spec.agents[${i}].id`, 'must not be empty');
    if (agentIds.has(a.id)) throw new PlanError('PLAN_INVALID_SPEC', `spec.agents[${i}].id`, `duplicate agent id ${a.id}`);
    agentIds.add(a.id);
    if (!isCount(a.capacity.nodes)) throw new PlanError('PLAN_INVALID_SPEC', `spec.agents[${i}].capacity.nodes`, 'must be an integer >= 0');
    if (!isCount(a.capacity.memoryMb)) throw new PlanError('PLAN_INVALID_SPEC', `spec.agents[${i}].capacity.memoryMb`, 'must be an integer >= 0');
  });
  const clusterNames = new Set<string>();
  spec.clusters.forEach((c, i) => {
    if (!c.name) throw new PlanError('PLAN_INVALID_SPEC', `spec.clusters[${i}].name`, 'must not be empty');
    if (clusterNames.has(c.name)) throw new PlanError('PLAN_INVALID_SPEC', `spec.clusters[${i}].name`, `duplicate cluster name ${c.name}`);
    clusterNames.add(c.name);
    if (!isCount(c.nodes)) throw new PlanError('PLAN_INVALID_SPEC', `spec.clusters[${i}].nodes`, 'must be an integer >= 0');
    if (!isCount(c.memoryMb)) throw new PlanError('PLAN_INVALID_SPEC', `spec.clusters[${i}].memoryMb`, 'must be an integer >= 0');
  });
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
  const seen = new Set<string>();
  live.nodes.forEach((n, i) => {
    if (!n.nodeId) throw new PlanError('PLAN_INVALID_LIVE_STATE', `live.nodes[${i}].nodeId`, 'must not be empty');
    if (!STATUS.has(n.status)) throw new PlanError('PLAN_INVALID_LIVE_STATE', `live.nodes[${i}].status`, `unknown status ${JSON.stringify(n.status)}`);
    if (!ROLE.has(n.role)) throw new PlanError('PLAN_INVALID_LIVE_STATE', `live.nodes[${i}].role`, `unknown role ${JSON.stringify(n.role)}`);
    if (!isCount(n.memoryMb)) throw new PlanError('PLAN_INVALID_LIVE_STATE', `live.nodes[${i}].memoryMb`, 'must be an integer >= 0');
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
