import type { NodeEvent } from '../common/grid-types.js';
import type { RestartPolicyOptions } from './restart-policy.js';

/** Where the supervisor tells node lifecycle facts (the master link queues them for the master). */
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
  /** What nodes check on calls (the node token derived from the agent's), for StorageControl; undefined when tokenless. */
  readonly nodeToken?: string | undefined;
}
