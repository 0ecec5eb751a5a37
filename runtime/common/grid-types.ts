/**
 * What the master and its agents pass each other, in the daemons' own terms. The generated wire
 * types (proto/gen) stay at the edges (the gRPC services and clients); grid-wire.ts converts.
 */
import type { AgentHealth, NodeStatus } from '../../plan/index.js';

/**
 * Per-node lifecycle: `starting -> running -> restarting -> running | failed`, and
 * `* -> stopping -> stopped` on request. `running` only once the node answers its health check.
 */
export type { AgentHealth, NodeStatus };

/** The live view of one storage node: the agent's report, and the master's copy of it. */
export interface NodeView {
  readonly nodeId: string;
  readonly agentId: string;
  readonly port: number;
  /** OS process id, or the container's init pid; 0 when no process is running. */
  readonly pid: number;
  readonly status: NodeStatus;
  readonly storagePath: string;
  readonly memoryMb: number;
  readonly restarts: number;
  readonly startedAtMs: number;
  /** Declarative owner; '' for nodes spawned by hand. */
  readonly cluster: string;
  /** leader, replica or standalone; '' for nodes spawned by hand. */
  readonly role: string;
  /** How the last run ended ("exit code 1", "signal SIGKILL", "start timeout"); '' if never. */
  readonly lastExit: string;
  readonly containerId: string;
  /** Spec generation the node was spawned for (0 for nodes spawned by hand). */
  readonly generation: number;
  /**
   * The node's replication as it last answered (the agent reads it with its health checks);
   * undefined for a node without a replication role or one that has not answered yet.
   */
  readonly replication?: NodeReplication | undefined;
}

/** A node's replication as the node itself reports it (StorageControl.GetReplicationStatus). */
export interface NodeReplication {
  /** leader, replica or standalone: the node's own view (a leader that saw a higher term stepped down). */
  readonly role: string;
  readonly term: number;
  /** HOST:PORT a replica follows; '' when it does not know it. */
  readonly leader: string;
  /** async or sync. */
  readonly durability: string;
  readonly syncQuorum: number;
  /** Records durable in the node's log, and the term of the last one: what decides who holds the most. */
  readonly logPosition: number;
  readonly lastLogTerm: number;
  /** Replica: the leader's position as last heard; lag = leaderLogPosition - logPosition. */
  readonly leaderLogPosition: number;
  /**
   * Replica: not yet at its leader's position since it started or was pointed at a new leader. A
   * replica that caught up and then lost its leader is not catching up (it holds the data).
   */
  readonly catchingUp: boolean;
  /** Replica: its stream from the leader is open. */
  readonly connected: boolean;
  /** When the agent read it (ms). */
  readonly readAtMs: number;
  /**
   * Leader: its write lease lapsed while its agent did not hear from the master; it takes no writes
   * until the master confirms it still leads (ConfigureNode). Set by the agent, not the node.
   */
  readonly leaseUnconfirmed?: boolean;
}

/**
 * How the grid configures a node's replication (leader and replica roles only): empty and zero
 * values take the storage-server's defaults.
 */
export interface ReplicationSettings {
  /** HOST:PORT of a replica's leader; '' when not known yet. */
  readonly leaderAddress: string;
  /** Leadership term of the role; 0 takes the node's default. */
  readonly term: number;
  /** async, sync, or '' (the node's default). */
  readonly durability: string;
  readonly syncQuorum: number;
  readonly syncTimeoutMs: number;
}

/** A spawn as the master asks an agent for it: zero/empty fields take the agent's defaults. */
export interface SpawnRequest extends ReplicationSettings {
  /** Chosen by the caller so that a retried spawn is idempotent; '' lets the agent pick one. */
  readonly nodeId: string;
  readonly port: number;
  readonly memoryMb: number;
  readonly storagePath: string;
  readonly cluster: string;
  readonly role: string;
  readonly generation: number;
  /** The grid's name (passed to nodes with a replication role). */
  readonly grid: string;
}

/** The replication fields of a spawn without a replication role (all the storage-server's defaults). */
export const NO_REPLICATION: ReplicationSettings & { readonly grid: string } = { grid: '', leaderAddress: '', term: 0, durability: '', syncQuorum: 0, syncTimeoutMs: 0 };

/** A change of a running node's replication (ConfigureNode): role leader or replica. */
export interface ConfigureRequest extends ReplicationSettings {
  readonly nodeId: string;
  readonly role: string;
  /**
   * A leader kept in its term refuses writes this long (ms) while still serving its log: a planned
   * handover. Relayed to the running node only, never kept for its restarts. 0 or unset: none.
   */
  readonly handOverMs?: number;
}

/** A stop as the master asks an agent for it; `graceMs` 0 takes the agent's default grace. */
export interface StopRequest {
  readonly nodeId: string;
  readonly graceMs: number;
}

/** Node lifecycle events the agent reports to the master (payloads as in runtime/events). */
export type NodeEventType = 'SpawnSucceeded' | 'SpawnFailed' | 'NodeCrashed' | 'NodeRestarted' | 'NodeFailed' | 'NodePortMoved' | 'StopSucceeded';

/** One node lifecycle fact, as the agent saw it happen. */
export interface NodeEvent {
  readonly type: NodeEventType;
  readonly severity: 'info' | 'warning' | 'error';
  readonly nodeId: string;
  readonly cluster: string;
  readonly timestampUs: number;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly message: string;
}

/** How much an agent may run; 0 = not limited. */
export interface AgentCapacity {
  readonly maxNodes: number;
  readonly memoryMb: number;
}

/** An agent as it registers: who it is, where the master reaches it, what it may run. */
export interface AgentDescriptor {
  readonly agentId: string;
  readonly hostname: string;
  /** process, docker, kubernetes or systemd. */
  readonly platform: string;
  /** host:port where the master reaches the agent's GridAgent service. */
  readonly address: string;
  readonly capacity: AgentCapacity;
  readonly version: string;
  readonly labels: Readonly<Record<string, string>>;
  /** First port of the range the agent allocates node ports from, and its size (0: none given). */
  readonly portRangeStart: number;
  readonly portRangeSize: number;
}

/** One agent as the master reports it: what it registered, its health, its nodes and its cordon. */
export interface AgentView {
  readonly info: AgentDescriptor;
  readonly health: AgentHealth;
  readonly lastHeartbeatMs: number;
  readonly registeredAtMs: number;
  readonly nodes: readonly NodeView[];
  /** Set when the agent is cordoned (takes no new nodes). */
  readonly cordon?: AgentCordon | undefined;
}

/** Who cordoned an agent: the applied spec (`agents[].cordoned`), an operator, or both. */
export interface AgentCordon {
  readonly bySpec: boolean;
  readonly byOperator: boolean;
  /** The operator's reason ('' when none was given, or only the spec cordons it). */
  readonly reason: string;
  /** When the operator cordoned it, or started draining it (ms); 0 when only the spec does. */
  readonly sinceMs: number;
  /** While the operator drains it (DrainAgent): the drain's deadline (ms since the epoch); 0 otherwise. */
  readonly drainDeadlineMs: number;
  /** Draining and no node of a declared cluster is left on it. */
  readonly drained: boolean;
}

/**
 * The grid's policy as the master sends it (the applied spec's `monitoring`). Each value is set
 * only when a spec says it: an unset value leaves the agent's own config in force, so a policy with
 * none set (no spec, or the spec was deleted) means "your own config".
 */
export interface GridPolicy {
  /** Spec generation it comes from (0: no spec was ever applied). */
  readonly generation: number;
  readonly heartbeatIntervalMs?: number;
  /** Restarts allowed within `restartWindowMs` before a node is marked failed. */
  readonly maxRestarts?: number;
  readonly restartWindowMs?: number;
  /** First restart delay; doubles on each further restart. */
  readonly restartBackoffMs?: number;
  /**
   * Silence after which the master holds an agent offline and fails over its leaders (sent with or
   * without a spec): the agent's leaders' write leases stay well inside it.
   */
  readonly offlineAfterMs?: number;
}

/** One heartbeat: the agent's nodes as they are now. */
export interface AgentBeat {
  readonly agentId: string;
  readonly nodes: readonly NodeView[];
}

/** The master's answer to a heartbeat. */
export interface BeatAnswer {
  /** The interval the master expects heartbeats at. */
  readonly heartbeatIntervalMs: number;
  /** The policy in force; undefined from an older master that sends none (the agent keeps its own config). */
  readonly policy: GridPolicy | undefined;
  /** Revoked node certificates (hex serials) the agent's nodes must refuse; empty without TLS. */
  readonly revokedNodeSerials?: readonly string[];
}

/** The master's answer to a registration. */
export interface Registration extends BeatAnswer {
  /** Stable across master restarts. */
  readonly masterId: string;
}
