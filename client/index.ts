/**
 * The client layer: everything that talks to a master from outside it (the CLI, the Pulumi
 * provider, the benchmarks): the one master client, the convergence wait, the wire's plan and
 * node conversions, and the transport the daemons share (see transport.ts).
 */
export * from './transport.js';
export {
  MasterClient,
  withMaster,
  MASTER_CALL_TIMEOUT_MS,
  type MasterClientOptions,
  type AppliedSpec,
  type ApplyOutcome,
  type PromoteOutcome,
  type RestartOutcome,
  type WatchHandlers,
  type MasterSwitch,
  type WireEvent,
  type WireEventFilter,
} from './master-client.js';
export { classifyMasterError, type MasterErrorContext } from './master-errors.js';
export { waitConverged, waitDrained, convergenceGaps, readGrid, type GridView, type WaitOptions, type WaitResult } from './converge.js';
export { planToWire, planFromWire, encodePlan, decodePlan, encodeApplySpecResponse, unplacedToWire, unplacedFromWire } from './plan-wire.js';
export {
  nodeFromWire,
  statusFromWire,
  cordonFromWire,
  cordonedBy,
  drainState,
  type AgentCordonState,
  type CordonOutcome,
  type GridNode,
  type GridNodeReplication,
  type GridStatus,
  type GridMasterStatus,
  type ReconcileState,
  type RolloutState,
  type RolloutStatus,
} from './node-wire.js';
export { nodeListJson, type NodeJsonSource } from './node-json.js';
export { fetchPinnedCa, joinGrid, renewCertificate, issueNodeCertificate, createJoinToken, revokeCredential, revokeJoinToken } from './security-client.js';
