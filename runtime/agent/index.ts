/**
 * The agent: runs storage nodes on one host for the master. Public face of runtime/agent.
 */
export { Agent, type AgentState } from './agent.js';
export { compileAgentOptions, loadAgentConfig, checkAgentConfig, type AgentFlags, type AgentConfigFile, type CompiledAgentOptions, type PlatformName } from './agent-config.js';
export { createPlatform } from './platform-factory.js';
export { ProcessPlatform, pidAlive, type ProcessPlatformOptions } from './process-platform.js';
export { NodeSupervisor } from './node-supervisor.js';
export { RestartPolicy, type RestartPolicyOptions, type RestartDecision } from './restart-policy.js';
export { MasterLink, type MasterLinkState, type MasterLinkOptions } from './master-link.js';
export { createAgentService } from './agent-service.js';
export { HealthProbe } from './health-probe.js';
export { NodeStateFiles, type NodeStateRecord } from './node-state-files.js';
export { checkNodeId, checkPortRange, checkStoragePathOverlap, portFree, resolveStoragePath, STORAGE_PATH_MAX_BYTES, STORAGE_PATH_MAX_DEPTH } from './spawn-checks.js';
export { nodeToken } from './node-token.js';
export { runAgentCommand, agentListeningLine } from './run-agent.js';
export type { NodeView, NodeStatus, SpawnRequest, NodeEvent, NodeEventType, GridPolicy } from '../common/grid-types.js';
export type { NodeEventSink, SupervisorOptions } from './node-types.js';
export type { NodePlatform, NodeLaunchSpec, NodeInstance, ExitInfo, AdoptedNode, ExitListener } from './platform.js';
