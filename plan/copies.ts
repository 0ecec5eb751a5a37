/**
 * Judging the live copies of one node. A node id may be reported by more than one agent (an agent
 * returns after its node was replaced elsewhere); exactly one copy is kept, chosen by a fixed
 * preference so every planner picks the same one.
 */
import { formatDuration } from './format.js';
import type { LiveAgent, LiveNode, NodeStatus } from './types.js';

/**
 * - `good`: on a healthy agent and alive: may be changed by the plan.
 * - `held`: on a degraded agent, or on one offline within the grace: left alone.
 * - `lost`: failed, stopped, or its agent is offline past the grace or unknown: needs a replacement.
 */
export type CopyCondition = 'good' | 'held' | 'lost';

/** A live copy with its verdict. */
export interface JudgedCopy {
  readonly node: LiveNode;
  readonly condition: CopyCondition;
  /** Why the copy is lost (empty unless `lost`). */
  readonly why: string;
  /** Whether its agent can be told to stop it now. */
  readonly reachable: boolean;
}

/** Classifies one copy; the agent's condition comes first since a silent agent's report is stale. */
export function judgeCopy(node: LiveNode, agent: LiveAgent | undefined, graceMs: number): JudgedCopy {
  if (!agent) return { node, condition: 'lost', why: `${node.agentId} is not registered`, reachable: false };
  if (agent.health === 'offline') {
    if (agent.offlineForMs > graceMs) {
      const why = `${agent.id} offline for ${formatDuration(agent.offlineForMs)} (grace ${formatDuration(graceMs)})`;
      return { node, condition: 'lost', why, reachable: false };
    }
    return { node, condition: 'held', why: '', reachable: false };
  }
  if (agent.health === 'degraded') return { node, condition: 'held', why: '', reachable: true };
  if (node.status === 'failed') {
    return { node, condition: 'lost', why: `failed after ${node.restarts} restarts on ${agent.id}`, reachable: true };
  }
  if (node.status === 'stopped' || node.status === 'stopping') {
    return { node, condition: 'lost', why: `${node.status} on ${agent.id}`, reachable: true };
  }
  return { node, condition: 'good', why: '', reachable: true };
}

const CONDITION_RANK: Record<CopyCondition, number> = { good: 0, held: 1, lost: 2 };
const STATUS_RANK: Record<NodeStatus, number> = {
  running: 0, starting: 1, restarting: 2, stopping: 3, stopped: 4, failed: 5,
};

/**
 * Orders copies best first: condition; the agent the previous plan chose; in a cluster whose
 * leader lives at another ordinal, a non-leader copy (a returning stale leader must not win);
 * the later start (the replacement); running before starting; newer generation; agent id.
 */
export function compareCopies(
  a: JudgedCopy,
  b: JudgedCopy,
  assignedAgent: string | undefined,
  leaderElsewhere: boolean,
): number {
  const c = CONDITION_RANK[a.condition] - CONDITION_RANK[b.condition];
  if (c !== 0) return c;
  if (assignedAgent !== undefined) {
    const aa = a.node.agentId === assignedAgent ? 0 : 1;
    const bb = b.node.agentId === assignedAgent ? 0 : 1;
    if (aa !== bb) return aa - bb;
  }
  if (leaderElsewhere) {
    const al = a.node.role === 'leader' ? 1 : 0;
    const bl = b.node.role === 'leader' ? 1 : 0;
    if (al !== bl) return al - bl;
  }
  const sa = a.node.startedAtMs ?? 0;
  const sb = b.node.startedAtMs ?? 0;
  if (sa !== sb) return sb - sa;
  const s = STATUS_RANK[a.node.status] - STATUS_RANK[b.node.status];
  if (s !== 0) return s;
  if (a.node.generation !== b.node.generation) return b.node.generation - a.node.generation;
  return a.node.agentId < b.node.agentId ? -1 : a.node.agentId > b.node.agentId ? 1 : 0;
}
