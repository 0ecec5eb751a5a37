/**
 * What the master reports about the grid (ListNodes, GetClusterStatus) in domain types: statuses,
 * roles and healths as the unions the plan engine uses, not the wire's free strings. A value this
 * client does not know is refused by name rather than passed on as a string nobody checks.
 */
import type { ClusterHealthState, ClusterStatus, NodeStatus, Unplaced } from '../plan/index.js';
import type { NodeRole } from '../schema/index.js';
import type { NodeInfo } from '../proto/gen/sutra/grid/v1/agent.pb.js';
import type { AgentCordon as WireCordon, GetClusterStatusResponse } from '../proto/gen/sutra/grid/v1/grid.pb.js';
import { ClientError } from './errors.js';
import { unplacedFromWire } from './plan-wire.js';

/** A storage node as its agent last reported it to the master. */
export interface GridNode {
  readonly nodeId: string;
  readonly agentId: string;
  readonly port: number;
  /** OS process id, or the container's init pid; 0 when not running. */
  readonly pid: number;
  readonly status: NodeStatus;
  readonly storagePath: string;
  readonly memoryMb: number;
  readonly restarts: number;
  readonly startedAtMs: number;
  /** Declarative owner; empty for nodes spawned by hand. */
  readonly cluster: string;
  /** As the master assigns it (a promotion changes no process); empty for nodes spawned by hand. */
  readonly role: NodeRole | '';
  /** How the last run ended, e.g. `exit code 1`; empty if it never ended. */
  readonly lastExit: string;
  readonly containerId: string;
  /** Spec generation the node was spawned for (0 for nodes spawned by hand). */
  readonly generation: number;
  /** Where the node stands in its cluster's replication, as it last answered; unset for a node without a replication role. */
  readonly replication?: GridNodeReplication | undefined;
}

/** A leader's or replica's replication as the node itself reports it. */
export interface GridNodeReplication {
  /** leader, replica or standalone: the node's own view (it may lag the master's assignment briefly). */
  readonly role: string;
  readonly term: number;
  /** HOST:PORT a replica follows; empty when it does not know it. */
  readonly leader: string;
  /** Records durable in the node's log. */
  readonly logPosition: number;
  readonly lastLogTerm: number;
  /** Replica: its leader's position as last heard. */
  readonly leaderLogPosition: number;
  /** Replica: still copying its leader's log. */
  readonly catchingUp: boolean;
  /** Replica: its stream from the leader is open. */
  readonly connected: boolean;
}

/** Why an agent takes no new nodes: the applied spec cordons it, an operator did, or both. */
export interface AgentCordonState {
  readonly bySpec: boolean;
  readonly byOperator: boolean;
  /** The operator's reason ('' when none was given). */
  readonly reason: string;
  /** When the operator cordoned it, or started draining it (ms); 0 when only the spec does. */
  readonly sinceMs: number;
  /** While an operator drains it: the drain's deadline (ms since the epoch); 0 otherwise. */
  readonly drainDeadlineMs: number;
  /** Draining, and no node of a declared cluster is left on it. */
  readonly drained: boolean;
}

/** What CordonAgent, DrainAgent or UncordonAgent did. */
export interface CordonOutcome {
  /** The agent's cordon after the call; undefined when the agent is schedulable. */
  readonly cordon: AgentCordonState | undefined;
  /** False when the call changed nothing. */
  readonly changed: boolean;
}

/** An agent's wire cordon; unset and "cordoned by nobody" both read as not cordoned. */
export function cordonFromWire(c: WireCordon | undefined): AgentCordonState | undefined {
  if (c === undefined || (!c.bySpec && !c.byOperator)) return undefined;
  return { bySpec: c.bySpec, byOperator: c.byOperator, reason: c.reason, sinceMs: c.sinceMs, drainDeadlineMs: c.drainDeadlineMs, drained: c.drained };
}

/** `draining` or `drained` for an agent an operator drains, else '': how list-agents shows it. */
export function drainState(c: AgentCordonState | undefined): '' | 'draining' | 'drained' {
  if (c === undefined || c.drainDeadlineMs === 0) return '';
  return c.drained ? 'drained' : 'draining';
}

/** `spec`, `operator`, `spec+operator`, or '' for an agent that is not cordoned: how list-agents shows it. */
export function cordonedBy(c: AgentCordonState | undefined): string {
  if (c === undefined) return '';
  return [c.bySpec ? 'spec' : '', c.byOperator ? 'operator' : ''].filter((s) => s !== '').join('+');
}

/** The reconciler's progress towards the applied spec. */
export interface ReconcileState {
  /** Spec generation of its last pass (0: none yet). */
  readonly generation: number;
  /** Actions planned and not completed yet (to start, running, or failed and to be retried). */
  readonly pendingActions: number;
  /** Nodes it could not place, per cluster, with why. */
  readonly unplaced: readonly Unplaced[];
  /** Rolling restarts in progress or finished for the current generation, then recent failed ones. */
  readonly rollouts: readonly RolloutStatus[];
}

/**
 * Where a cluster's rolling restart stands: `reverting` is a failed one whose policy goes back to
 * the last good spec, `reverted` once that spec is applied again; `failed` and `reverted` are final.
 */
export type RolloutState = 'rolling' | 'done' | 'failed' | 'reverting' | 'reverted';

/** One cluster's rolling restart to one spec generation. */
export interface RolloutStatus {
  readonly cluster: string;
  readonly generation: number;
  readonly state: RolloutState;
  /** Highest step started (steps as the plan numbers them). */
  readonly step: number;
  /** Nodes restarted and healthy for the policy's minHealthyTime. */
  readonly nodesDone: number;
  /** Nodes the rollout restarts (started and still planned). */
  readonly nodesTotal: number;
  /** Why it failed (and where it was reverted to); empty otherwise. */
  readonly reason: string;
}

/** The grid as GetClusterStatus reports it. */
export interface GridStatus {
  readonly agentsTotal: number;
  readonly agentsHealthy: number;
  readonly agentsDegraded: number;
  readonly agentsOffline: number;
  readonly nodesTotal: number;
  readonly nodesRunning: number;
  readonly nodesFailed: number;
  readonly health: ClusterHealthState;
  /** The applied spec's clusters (none when no spec is applied, or it was deleted). */
  readonly clusters: readonly ClusterStatus[];
  readonly specGeneration: number;
  /** Events dropped because the event store failed and the buffer was full. */
  readonly eventsDropped: number;
  /** Set while the event store is failing. */
  readonly eventStoreError: string;
  readonly reconcile: ReconcileState;
  /** Several masters on etcd: each one up, the leader among them. Empty for a lone master. */
  readonly masters?: readonly GridMasterStatus[];
  /** The shared store's (etcd's) health as the leader sees it; '' for the file store. */
  readonly storeHealth?: string;
}

/** One master of several sharing etcd, as `status` shows it. */
export interface GridMasterStatus {
  readonly address: string;
  readonly masterId: string;
  readonly leading: boolean;
  /** When it started leading (ms since the epoch); when it started, for a follower. */
  readonly sinceMs: number;
}

const STATUSES: ReadonlySet<string> = new Set<NodeStatus>(['starting', 'running', 'restarting', 'stopping', 'stopped', 'failed']);
const ROLES: ReadonlySet<string> = new Set<NodeRole | ''>(['', 'standalone', 'leader', 'replica']);
const ROLLOUT_STATES: ReadonlySet<string> = new Set<RolloutState>(['rolling', 'done', 'failed', 'reverting', 'reverted']);
const HEALTHS: ReadonlySet<string> = new Set<ClusterHealthState>(['healthy', 'degraded', 'critical']);

/**
 * A node the master reported, as a {@link GridNode}.
 * @throws ClientError MASTER_ANSWER_INVALID naming `field` for a status or role this client does not know.
 */
export function nodeFromWire(n: NodeInfo, field = 'node'): GridNode {
  return {
    nodeId: n.nodeId,
    agentId: n.agentId,
    port: n.port,
    pid: n.pid,
    status: known(STATUSES, n.status, `${field}.status`) as NodeStatus,
    storagePath: n.storagePath,
    memoryMb: n.memoryMb,
    restarts: n.restarts,
    startedAtMs: n.startedAtMs,
    cluster: n.cluster,
    role: known(ROLES, n.role, `${field}.role`) as NodeRole | '',
    lastExit: n.lastExit,
    containerId: n.containerId,
    generation: n.generation,
    ...(n.replication !== undefined
      ? {
          replication: {
            role: n.replication.role,
            term: n.replication.term,
            leader: n.replication.leader,
            logPosition: n.replication.logPosition,
            lastLogTerm: n.replication.lastLogTerm,
            leaderLogPosition: n.replication.leaderLogPosition,
            catchingUp: n.replication.catchingUp,
            connected: n.replication.connected,
          },
        }
      : {}),
  };
}

/**
 * A GetClusterStatus answer as a {@link GridStatus}; a master that reports no reconciler state
 * (an older one) reads as a reconciler that has not started.
 * @throws ClientError MASTER_ANSWER_INVALID naming the field for a health this client does not know.
 */
export function statusFromWire(s: GetClusterStatusResponse): GridStatus {
  const r = s.reconcile;
  return {
    agentsTotal: s.agentsTotal,
    agentsHealthy: s.agentsHealthy,
    agentsDegraded: s.agentsDegraded,
    agentsOffline: s.agentsOffline,
    nodesTotal: s.nodesTotal,
    nodesRunning: s.nodesRunning,
    nodesFailed: s.nodesFailed,
    health: known(HEALTHS, s.health, 'health') as ClusterHealthState,
    clusters: s.clusters.map((c, i) => ({
      name: c.name,
      desired: c.desired,
      running: c.running,
      health: known(HEALTHS, c.health, `clusters[${i}].health`) as ClusterHealthState,
      leaderNodeId: c.leaderNodeId,
    })),
    specGeneration: s.specGeneration,
    eventsDropped: s.eventsDropped,
    eventStoreError: s.eventStoreError,
    reconcile: {
      generation: r?.generation ?? 0,
      pendingActions: r?.pendingActions ?? 0,
      unplaced: (r?.unplaced ?? []).map(unplacedFromWire),
      rollouts: (r?.rollouts ?? []).map((o, i) => ({ ...o, state: known(ROLLOUT_STATES, o.state, `reconcile.rollouts[${i}].state`) as RolloutState })),
    },
    masters: s.masters.map((m) => ({ address: m.address, masterId: m.masterId, leading: m.leading, sinceMs: m.sinceMs })),
    storeHealth: s.storeHealth,
  };
}

function known(values: ReadonlySet<string>, value: string, field: string): string {
  if (values.has(value)) return value;
  throw new ClientError('MASTER_ANSWER_INVALID', `${field}: unknown value ${JSON.stringify(value)} (expected one of ${[...values].filter((v) => v !== '').join(', ')})`, { field });
}
