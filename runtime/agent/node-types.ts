import type { NodeStatus } from '../../plan/index.js';
import type { RestartPolicyOptions } from './restart-policy.js';

/**
 * Per-node lifecycle: `starting -> running -> restarting -> running | failed`, and
 * `* -> stopping -> stopped` on request. `running` only once the node answers its health check.
 */
export type { NodeStatus } from '../../plan/index.js';

/** The live view of one node (the domain twin of the wire's NodeInfo). */
export interface NodeView {
  readonly nodeId: string;
  readonly agentId: string;
  readonly port: number;
  /** 0 when no process is running. */
  readonly pid: number;
  readonly status: NodeStatus;
  readonly storagePath: string;
  readonly memoryMb: number;
  readonly restarts: number;
  readonly startedAtMs: number;
  readonly cluster: string;
  readonly role: string;
  /** How the last run ended ("exit code 1", "signal SIGKILL", "start timeout"); '' if never. */
  readonly lastExit: string;
  readonly containerId: string;
  readonly generation: number;
}

/** A spawn as requested (wire SpawnNodeRequest): zero/empty fields take the agent's defaults. */
export interface SpawnRequest {
  readonly nodeId: string;
  readonly port: number;
  readonly memoryMb: number;
  readonly storagePath: string;
  readonly cluster: string;
  readonly role: string;
  readonly generation: number;
}

/** Node lifecycle events the agent reports to the master (payloads as in runtime/events). */
export type NodeEventType = 'SpawnSucceeded' | 'SpawnFailed' | 'NodeCrashed' | 'NodeRestarted' | 'NodeFailed' | 'NodePortMoved' | 'StopSucceeded';

export interface NodeEvent {
  readonly type: NodeEventType;
  readonly severity: 'info' | 'warning' | 'error';
  readonly nodeId: string;
  readonly cluster: string;
  readonly timestampUs: number;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly message: string;
}

export type NodeEventSink = (event: NodeEvent) => void;

/** What the supervisor needs from the agent's compiled options. */
export interface SupervisorOptions {
  readonly agentId: string;
  readonly dataPath: string;
  readonly defaultMemoryMb: number;
  readonly portRangeStart: number;
  readonly portRangeSize: number;
  readonly maxNodes: number;
  /** 0 = not limited. */
  readonly maxMemoryMb: number;
  readonly startupProbeIntervalMs: number;
  readonly startTimeoutMs: number;
  readonly healthCheckIntervalMs: number;
  readonly stopGraceMs: number;
  readonly restart: RestartPolicyOptions;
}
