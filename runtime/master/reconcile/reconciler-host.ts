/**
 * What the reconciler needs from the master and what it tells it: the desired state, the live
 * state, the agent calls each action makes, and the lifecycle facts it reports.
 */
import type { CompiledGridSpec } from '../../../schema/index.js';
import type { LiveState } from '../../../plan/index.js';
import type { Logger } from '../../common/logger.js';
import type { RolloutEvents } from './rollout-tracker.js';
import type { MasterMetrics } from '../master-metrics.js';

/** What the reconciler converges to: the applied spec and who currently leads each cluster. */
export interface DesiredState {
  readonly spec: CompiledGridSpec;
  readonly generation: number;
  readonly leaders: Readonly<Record<string, string>>;
  /** The term each recorded leader leads (leader-replicas clusters). */
  readonly terms?: Readonly<Record<string, number>>;
}

/** Lifecycle facts the reconciler reports (the master turns them into events). */
export interface ReconcilerEvents extends RolloutEvents {
  nodeReplaced?(e: { cluster: string; nodeId: string; fromAgentId: string; toAgentId: string; reason: string }): void;
  leaderChanged?(e: { cluster: string; nodeId: string; previous: string; reason: string; term?: number }): void;
  placementFailed?(e: { cluster: string; nodeIds: readonly string[]; reason: string }): void;
}

/** The master-side operations the reconciler drives; each call goes to a real agent. */
export interface ReconcilerHost {
  desired(): DesiredState | undefined;
  /** Live agents and nodes, with the master's leader assignments already applied to roles. */
  live(): LiveState;
  spawn(agentId: string, node: { nodeId: string; memoryMb: number; cluster: string; role: string; generation: number }): Promise<void>;
  /**
   * Stops the node's copy on `agentId`; resolves once its process is gone. Rejects with the gRPC
   * status as `code` (or GridError code NODE_NOT_FOUND when the master no longer lists the copy).
   */
  stop(agentId: string, nodeId: string): Promise<void>;
  /** Durably records a new leader (a promotion survives a master restart). */
  setLeader(cluster: string, nodeId: string): Promise<void>;
  /** True when the desired state was loaded from the store at start (a master restart). */
  resumed?(): boolean;
  /**
   * Hands the leadership of `cluster` to its replica `nodeId` with no acknowledged write lost (a
   * planned promotion); resolves once the replica leads. Rejects when it cannot (the old leader
   * then leads on).
   */
  handOver?(cluster: string, nodeId: string): Promise<void>;
  /**
   * The grid reached `generation` (nothing planned, nothing in flight, nothing unplaced, no failed
   * rollout): its spec is the last good one a failed rollout reverts to.
   */
  converged?(generation: number): void;
  /**
   * A rollout of `cluster` failed under a policy with autoRevert: applies the last good spec again
   * as a new generation and resolves with it; undefined when there is none to go back to.
   */
  revert?(cluster: string, reason: string): Promise<number | undefined>;
  /**
   * After each pass is planned: brings running nodes to what the master records (replication roles,
   * leaders, terms). Must not wait on the nodes: it starts its own work.
   */
  afterPass?(desired: DesiredState): void;
  /**
   * Agents being drained, agent id -> the drain's deadline (ms since the epoch): past it, moves
   * off the agent start without waiting for the update policy.
   */
  drainDeadlines?(): Readonly<Record<string, number>>;
}

export interface ReconcilerOptions {
  /** Time between passes when nothing triggers one. @default 1000 */
  readonly intervalMs?: number;
  /** Actions run at most this many at a time. @default 8 */
  readonly concurrency?: number;
  /** Actions calling the same agent run at most this many at a time. @default half of concurrency */
  readonly perAgentConcurrency?: number;
  /**
   * After the master starts, no node is created, replaced or promoted until every declared agent has
   * registered or this long has passed (plus the spec's `replaceAfter` when the spec was loaded
   * from the store): agents must first tell a restarted master what they run, or it would start
   * duplicates. @default 0
   */
  readonly settleMs?: number;
  readonly logger?: Logger;
  readonly events?: ReconcilerEvents;
  readonly now?: () => number;
  /**
   * Called at the start of every pass (before planning) and after each action: an observer sees
   * every state the reconciler acts on and every state it makes (a lost leader before its replica
   * is promoted, the promoted cluster before its lost node is replaced).
   */
  readonly observe?: () => void;
  /** Told how long each pass took to plan and how each action ended. */
  readonly metrics?: MasterMetrics | undefined;
  /**
   * False while this master does not lead (several masters on etcd): no pass plans or acts, and an
   * action queued before is dropped. Checked right before each action. @default always true
   */
  readonly active?: () => boolean;
}
