/**
 * The master daemon: public face of runtime/master. Other layers import from here only.
 */
export { Master, type MasterState, type MasterDeps } from './master.js';
export { compileMasterOptions, type MasterOptions, type CompiledMasterOptions } from './master-options.js';
export type { MasterEvents, AgentHealth } from './master-events.js';
export type { MasterContext } from './master-context.js';
export type { MasterHandlers, HandlerFactory, UnaryHandler, StreamHandler } from './handlers/master-handlers.js';
export { AgentRegistry, type AgentRecord, type HealthTransition, type HealthThresholds } from './agent-registry.js';
export { NodeTable, type NodeFilter } from './node-table.js';
export { AgentClientPool, DEFAULT_AGENT_DEADLINES, type AgentCallDeadlines } from './agent-client-pool.js';
export { NodeOperations, type SpawnNodeInput, type NodeStatusResult } from './node-operations.js';
export { computeClusterStatus, type GridHealth } from './cluster-status.js';
export { DeclarativeControl, type ApplyOutcome } from './declarative.js';
export type { MasterMetrics } from './master-metrics.js';
export type { MasterApi, MasterFrontEnd, HttpFrontEndFactory, HttpCredentials } from './master-api.js';
export { drainDeadline, MAX_DRAIN_DEADLINE_MS } from './cordons.js';
export { SoleLeadership, requireLeader, requireLeaderFor, type Leadership, type LeaderInfo, type SharedEventStore } from './leadership.js';
export { openEtcdState, DEFAULT_LEASE_TTL_SECONDS, type EtcdState } from './store/etcd-state.js';
export { EtcdEventLog, type EtcdEventLogOptions } from './store/etcd-event-log.js';
export { parseEtcdStore, type EtcdTarget } from './store/etcd-target.js';
export { EtcdSpecStore } from './store/etcd-spec-store.js';
