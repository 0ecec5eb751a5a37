import type { NodeEvent } from '../common/grid-types.js';
import type { RestartPolicyOptions } from './restart-policy.js';
import type { NodeCredentials } from './node-credentials.js';

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
  /**
   * Host nodes bind and the agent dials: the agent's listen host when it is beyond loopback and the
   * agent holds a certificate (nodes then speak mutual TLS, so replicas on other hosts reach their
   * leader), or where the platform publishes node ports (NodePlatform.nodeDialHost).
   * @default '127.0.0.1'
   */
  readonly nodeHost?: string | undefined;
  /** Node certificates: with them every node speaks mutual TLS only. Undefined: plaintext nodes. */
  readonly nodeTls?: NodeCredentials | undefined;
}

/** Where the agent dials a node on `port`: its bind host, or loopback for a wildcard bind. */
export function nodeDialAddress(opts: Pick<SupervisorOptions, 'nodeHost'>, port: number): string {
  const host = opts.nodeHost ?? '127.0.0.1';
  const wildcard = host === '0.0.0.0' || host === '::' || host === '[::]';
  return `${wildcard ? '127.0.0.1' : host}:${port}`;
}
