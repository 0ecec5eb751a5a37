/**
 * The pure plan/scheduler engine: given a compiled spec and the live grid, what to do and where.
 * Shared by the master's reconciler, the CLI `plan` and the Pulumi provider's diff. No I/O.
 */
export { planGrid } from './diff.js';
export { clusterHealth, clusterStatus, type ClusterHealthState, type ClusterStatus } from './health.js';
export { renderAction, renderPlan, planToJson } from './render.js';
export { renderSpecPlan, hasChanges, specDiffers, type SpecPlan } from './spec-plan.js';
export { nodeIdFor, ordinalOf } from './node-identity.js';
export { isRestartInPlace } from './plan-collector.js';
export { PlanError, type PlanErrorCode } from './errors.js';
export type {
  AgentHealth,
  Deferred,
  LiveAgent,
  LiveNode,
  LiveReplication,
  LiveState,
  NodeStatus,
  Plan,
  PlanAction,
  PlanOp,
  PlanOptions,
  PlanSummary,
  Unplaced,
} from './types.js';
