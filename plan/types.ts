/**
 * Input and output shapes of the plan engine. The engine is pure: it reads a compiled spec and a
 * snapshot of live state and returns a {@link Plan}; the master's reconciler, the CLI `plan` and
 * the Pulumi provider's diff all call it with the state they see.
 */
import type { NodeRole, Platform } from '../schema/index.js';

/** How the master currently sees an agent. */
export type AgentHealth = 'healthy' | 'degraded' | 'offline';

/** Lifecycle status of a storage node as reported by its agent. */
export type NodeStatus = 'starting' | 'running' | 'restarting' | 'stopping' | 'stopped' | 'failed';

/** An agent as the master sees it now. */
export interface LiveAgent {
  readonly id: string;
  readonly platform: Platform;
  readonly health: AgentHealth;
  /** How long the agent has been offline; ignored unless `health` is `offline`. */
  readonly offlineForMs: number;
  /** What the agent itself reports; the tighter of this and the spec's declaration applies. 0 = not reported / not limited. */
  readonly capacity: { readonly nodes: number; readonly memoryMb: number };
  readonly labels: Readonly<Record<string, string>>;
  /** Inclusive port range the agent allocates from; the spec's storage default when absent. */
  readonly portRange?: { readonly start: number; readonly end: number };
}

/** A storage node as reported by its agent. */
export interface LiveNode {
  readonly nodeId: string;
  readonly agentId: string;
  /** Declarative owner; empty for nodes spawned by hand, which the plan never touches. */
  readonly cluster: string;
  /** Empty for nodes spawned by hand. */
  readonly role: NodeRole | '';
  readonly status: NodeStatus;
  readonly port: number;
  readonly memoryMb: number;
  readonly restarts: number;
  /** Spec generation the node was spawned for (0 for nodes spawned by hand). */
  readonly generation: number;
  /**
   * When the current copy was started. Breaks the tie between two copies of one node (an agent
   * returning after its node was replaced elsewhere): the later start is the replacement.
   */
  readonly startedAtMs?: number;
  /**
   * Where a leader's or replica's log stands, as the node reported it: a failover promotes the
   * running replica holding the most (highest `lastLogTerm`, then `logPosition`). Absent when not
   * reported (then it ranks as an empty log).
   */
  readonly replication?: LiveReplication;
}

/** A node's log position as it reported it. */
export interface LiveReplication {
  /** The term the node is in. */
  readonly term: number;
  /** Term of the node's last log record (0 for an empty log). */
  readonly lastLogTerm: number;
  /** Records in the node's log. */
  readonly logPosition: number;
}

/** Snapshot of the grid as the master sees it. */
export interface LiveState {
  readonly agents: readonly LiveAgent[];
  readonly nodes: readonly LiveNode[];
  /**
   * Agents an operator cordoned (`sutra-grid cordon`), agent id -> the reason given ('' for none).
   * Like a spec's `agents[].cordoned`, a cordon keeps new nodes off the agent and leaves its nodes
   * where they are. Kept here, not on {@link LiveAgent}, because an agent that has not registered
   * (yet, or again) can be cordoned too. Absent: none.
   */
  readonly cordons?: Readonly<Record<string, string>>;
  /**
   * Agents an operator drains (`sutra-grid drain`), agent id -> the drain's deadline (ms since the
   * epoch). A draining agent is cordoned too (it is in {@link cordons}); its nodes of declared
   * clusters move to other agents, as rollout steps of their cluster (a node that fits nowhere
   * stays, reported unplaced naming the drain). The plan does not read the deadline: the
   * reconciler stops pacing the moves once it passes. Absent: none.
   */
  readonly draining?: Readonly<Record<string, number>>;
}

/** Knobs of {@link planGrid}; all optional. */
export interface PlanOptions {
  /**
   * How long an agent may stay offline before its nodes are replaced elsewhere.
   * @default spec.monitoring.replaceAfterMs
   */
  readonly replaceAfterMs?: number;
  /**
   * Where the previous plan put each node (nodeId -> agentId). When two live copies of a node
   * exist, the copy on this agent is the one kept. The reconciler passes what it last applied.
   */
  readonly assignments?: Readonly<Record<string, string>>;
}

/** What an action does to a node. */
export type PlanOp = 'create' | 'destroy' | 'update' | 'replace';

/**
 * One step of a plan.
 * - `create`: spawn `nodeId` on `agentId`.
 * - `destroy`: stop and remove the copy of `nodeId` on `agentId`.
 * - `update`: change the node's role in place (promotion/demotion); no restart.
 * - `replace`: stop the copy on `fromAgentId` (best effort when that agent is unreachable), then
 *   spawn it on `agentId` (which may equal `fromAgentId`, e.g. a memory change).
 */
export interface PlanAction {
  readonly op: PlanOp;
  readonly cluster: string;
  readonly nodeId: string;
  readonly agentId: string;
  readonly fromAgentId?: string;
  /** The role after the action (for `destroy`: the role the node had, possibly empty). */
  readonly role: NodeRole | '';
  /** Memory after the action (for `destroy`: the memory the node had). */
  readonly memoryMb: number;
  readonly reason: string;
  /**
   * For a restart in place (a replace on the node's own agent) and a move off a draining agent:
   * the rollout step it belongs to, from 1. A cluster's steps run one after another, each once the
   * previous one's nodes are healthy (its update policy): replicas first, up to `maxUnavailable`
   * per step, the leader alone last. Absent: the action is not paced.
   */
  readonly step?: number;
  /**
   * A leader's restart in place: the replica it first hands its leadership to (a planned handover,
   * no acknowledged write lost); the node then restarts as that replica's replica (`role`).
   */
  readonly handoverTo?: string;
  /**
   * A move (to another agent) that starts the new copy first and stops the old one once the new
   * one runs and, for a replica, has caught up with its leader (the cluster's `update.maxSurge`):
   * the node never goes down. Absent: the old copy stops before the new one starts.
   */
  readonly surge?: true;
}

/** Nodes of one cluster the scheduler could not place, with why. */
export interface Unplaced {
  readonly cluster: string;
  readonly nodeIds: readonly string[];
  /** Human-readable, e.g. `cluster kg: 2 of 5 nodes unplaced: capacity exhausted on agent-1 (4/4)`. */
  readonly reason: string;
}

/** A destroy that must wait until its agent is reachable again. */
export interface Deferred {
  readonly cluster: string;
  readonly nodeId: string;
  readonly agentId: string;
  readonly reason: string;
}

/** Counts of a plan, by kind. `unchanged` counts declared nodes left as they are. */
export interface PlanSummary {
  readonly create: number;
  readonly destroy: number;
  readonly update: number;
  readonly replace: number;
  readonly unchanged: number;
}

/**
 * The result of {@link planGrid}. `actions` are in a safe execution order: destroys (freeing
 * capacity), then updates (a promotion restores a leader first), then replaces, then creates.
 */
export interface Plan {
  readonly actions: readonly PlanAction[];
  readonly unplaced: readonly Unplaced[];
  readonly deferred: readonly Deferred[];
  readonly summary: PlanSummary;
  /** True when there is at least one action to run. */
  readonly changed: boolean;
}
