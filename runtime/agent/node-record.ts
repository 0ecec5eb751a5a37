import type { GridError } from '../errors.js';
import type { HealthProbe } from './health-probe.js';
import type { NodeControl } from './node-control.js';
import type { NodeEvent, NodeEventType, NodeReplication, NodeStatus, NodeView } from '../common/grid-types.js';
import type { ExitInfo, NodeLaunchSpec } from './platform.js';
import { RestartPolicy, type RestartPolicyOptions } from './restart-policy.js';

/**
 * One node as the NodeSupervisor tracks it: the current run (pid, probe, abort), what happened to
 * earlier runs (restarts, last exit, port moves) and who waits on it. Plain data; the supervisor owns
 * every transition.
 */

/** The supervisor's mutable state of one node across its runs. */
export interface NodeRecord {
  spec: NodeLaunchSpec;
  status: NodeStatus;
  pid: number;
  containerId: string;
  restarts: number;
  startedAtMs: number;
  lastExit: string;
  everRan: boolean;
  stopRequested: boolean;
  /** Set when the supervisor itself killed the node (start timeout, liveness). */
  killReason: string | undefined;
  readonly policy: RestartPolicy;
  /** Aborted when the current run ends: cancels its probe or pending restart. */
  abort: AbortController;
  /** The platform.start of the current run, awaited by stop so no instance escapes. */
  starting: Promise<unknown> | undefined;
  stopping: Promise<NodeView> | undefined;
  probe: HealthProbe | undefined;
  liveness: NodeJS.Timeout | undefined;
  launchedAt: number;
  readonly waiters: Set<() => void>;
  /** Set when the platform refused the first start outright: the spawn fails with this error. */
  rejected?: GridError;
  /** The spawn request named the port: it is never moved (a taken one is an error, not a move). */
  portPinned: boolean;
  /** Port moves since the node last reached `running` (see MAX_PORT_MOVES). */
  portMoves: number;
  /** Whether the current run has answered its health check (from its own listener). */
  runServing: boolean;
  /** Whether the current run is a restart (decides the event once it is running). */
  runIsRestart: boolean;
  /** The node's StorageControl (leader and replica nodes), opened with its probe. */
  control: NodeControl | undefined;
  /** The node's replication as it last answered (see node-replication.ts). */
  replication: NodeReplication | undefined;
  /** The run has reached its leader's position (or leads) since it started or was pointed at a new leader. */
  caughtUp: boolean;
  /** Polls the replication of the current run. */
  replicationPoll: NodeJS.Timeout | undefined;
  /**
   * A leader whose write lease lapsed while the agent did not hear from the master: not renewed
   * until the master confirms it (ConfigureNode), and reported so (see lease-keeper.ts).
   */
  leaseUnconfirmed: boolean;
}

/** Statuses a spawn waits for. */
export const SETTLED: ReadonlySet<NodeStatus> = new Set(['running', 'failed', 'stopping', 'stopped']);
/** Severity of each node event the agent reports. */
export const NODE_EVENT_SEVERITY: Record<NodeEventType, NodeEvent['severity']> = {
  SpawnSucceeded: 'info',
  SpawnFailed: 'error',
  NodeCrashed: 'error',
  NodeRestarted: 'warning',
  NodeFailed: 'error',
  NodePortMoved: 'warning',
  StopSucceeded: 'info',
};

/** How an exit reads in `lastExit` and logs. */
export function describeExit(exit: ExitInfo): string {
  if (exit.signal !== null) return `signal ${exit.signal}`;
  if (exit.exitCode !== null) return `exit code ${exit.exitCode}`;
  return 'exited (status unknown: adopted process)';
}

/** A fresh record for a node about to start (or be adopted). */
export function newNodeRecord(spec: NodeLaunchSpec, restart: RestartPolicyOptions): NodeRecord {
  return {
    spec,
    status: 'starting',
    pid: 0,
    containerId: '',
    restarts: 0,
    startedAtMs: 0,
    lastExit: '',
    everRan: false,
    stopRequested: false,
    killReason: undefined,
    policy: new RestartPolicy(restart),
    abort: new AbortController(),
    starting: undefined,
    stopping: undefined,
    probe: undefined,
    liveness: undefined,
    launchedAt: Date.now(),
    waiters: new Set(),
    portPinned: false,
    portMoves: 0,
    runServing: false,
    runIsRestart: false,
    control: undefined,
    replication: undefined,
    caughtUp: false,
    replicationPoll: undefined,
    leaseUnconfirmed: false,
  };
}

/** The record as the node's public view. */
export function nodeView(r: NodeRecord, agentId: string): NodeView {
  return {
    nodeId: r.spec.nodeId,
    agentId,
    port: r.spec.port,
    pid: r.pid,
    status: r.status,
    storagePath: r.spec.storagePath,
    memoryMb: r.spec.memoryMb,
    restarts: r.restarts,
    startedAtMs: r.startedAtMs,
    cluster: r.spec.cluster,
    role: r.spec.role,
    lastExit: r.lastExit,
    containerId: r.containerId,
    generation: r.spec.generation,
    ...(r.replication !== undefined ? { replication: r.leaseUnconfirmed ? { ...r.replication, leaseUnconfirmed: true } : r.replication } : {}),
  };
}
