/**
 * Accumulates a plan's actions, deferred destroys and unplaced nodes, and hands them back in a
 * stable order: the same input gives the same plan, byte for byte.
 */
import type { NodeRole } from '../schema/index.js';
import { ordinalOf } from './node-identity.js';
import type { Deferred, Plan, PlanAction, PlanOp, Unplaced } from './types.js';

const OP_RANK: Record<PlanOp, number> = { destroy: 0, update: 1, replace: 2, create: 3 };

interface Entry {
  readonly action: PlanAction;
  readonly clusterRank: number;
  readonly ordinal: number;
}

/** Builder of one {@link Plan}. */
export class PlanCollector {
  private readonly entries: Entry[] = [];
  private readonly deferredEntries: { d: Deferred; clusterRank: number; ordinal: number }[] = [];
  private readonly unplacedList: Unplaced[] = [];
  /** Actions that are rollout steps besides the restarts in place (moves off a draining agent). */
  private readonly paced = new Set<PlanAction>();
  private unchanged = 0;

  /**
   * `clusterOrder` ranks declared clusters; undeclared ones sort first, by name. `maxUnavailable`
   * sizes each declared cluster's rollout steps.
   */
  constructor(
    private readonly clusterOrder: ReadonlyMap<string, number>,
    private readonly maxUnavailable: ReadonlyMap<string, number> = new Map(),
  ) {}

  action(
    op: PlanOp,
    cluster: string,
    nodeId: string,
    agentId: string,
    role: NodeRole | '',
    memoryMb: number,
    reason: string,
    fromAgentId?: string,
    extra: { handoverTo?: string; paced?: boolean; surge?: boolean } = {},
  ): void {
    // Literal key order here is the JSON key order of the plan.
    const base: PlanAction =
      fromAgentId === undefined
        ? { op, cluster, nodeId, agentId, role, memoryMb, reason }
        : { op, cluster, nodeId, agentId, fromAgentId, role, memoryMb, reason };
    const handing: PlanAction = extra.handoverTo !== undefined ? { ...base, handoverTo: extra.handoverTo } : base;
    const action: PlanAction = extra.surge === true && fromAgentId !== undefined && fromAgentId !== agentId ? { ...handing, surge: true } : handing;
    if (extra.paced === true) this.paced.add(action);
    this.entries.push({ action, clusterRank: this.rank(cluster), ordinal: ordinalOf(cluster, nodeId) ?? Infinity });
  }

  defer(cluster: string, nodeId: string, agentId: string, reason: string): void {
    this.deferredEntries.push({
      d: { cluster, nodeId, agentId, reason },
      clusterRank: this.rank(cluster),
      ordinal: ordinalOf(cluster, nodeId) ?? Infinity,
    });
  }

  unplaced(u: Unplaced): void {
    this.unplacedList.push(u);
  }

  /** Counts a declared node that stays as it is. */
  keep(): void {
    this.unchanged += 1;
  }

  finish(): Plan {
    const byKey = (
      x: { clusterRank: number; ordinal: number; c: string; n: string; a: string },
      y: { clusterRank: number; ordinal: number; c: string; n: string; a: string },
    ): number =>
      x.clusterRank - y.clusterRank ||
      cmp(x.c, y.c) ||
      (x.ordinal === y.ordinal ? 0 : x.ordinal < y.ordinal ? -1 : 1) ||
      cmp(x.n, y.n) ||
      cmp(x.a, y.a);
    const key = (e: { clusterRank: number; ordinal: number }, v: { cluster: string; nodeId: string; agentId: string }) => ({
      clusterRank: e.clusterRank, ordinal: e.ordinal, c: v.cluster, n: v.nodeId, a: v.agentId,
    });
    const actions = this.withSteps(
      [...this.entries]
        .sort((x, y) => OP_RANK[x.action.op] - OP_RANK[y.action.op] || byKey(key(x, x.action), key(y, y.action)))
        .map((e) => e.action),
    );
    const deferred = [...this.deferredEntries].sort((x, y) => byKey(key(x, x.d), key(y, y.d))).map((e) => e.d);
    const count = (op: PlanOp): number => actions.filter((a) => a.op === op).length;
    return {
      actions,
      unplaced: this.unplacedList,
      deferred,
      summary: {
        create: count('create'),
        destroy: count('destroy'),
        update: count('update'),
        replace: count('replace'),
        unchanged: this.unchanged,
      },
      changed: actions.length > 0,
    };
  }

  /**
   * Numbers each cluster's restarts in place and paced moves (`extra.paced`: off a draining agent)
   * into rollout steps: replicas (and standalone nodes) in node order, `maxUnavailable` per step,
   * then the leader (handing over first, when it can) in a step of its own, so it goes last, once
   * every other node is done.
   */
  private withSteps(actions: PlanAction[]): PlanAction[] {
    const byCluster = new Map<string, PlanAction[]>();
    for (const a of actions) {
      if (!isRestartInPlace(a) && !this.paced.has(a)) continue;
      const list = byCluster.get(a.cluster) ?? [];
      list.push(a);
      byCluster.set(a.cluster, list);
    }
    if (byCluster.size === 0) return actions;
    const steps = new Map<PlanAction, number>();
    for (const [cluster, list] of byCluster) {
      const perStep = Math.max(1, this.maxUnavailable.get(cluster) ?? 1);
      const last = (a: PlanAction): boolean => a.role === 'leader' || a.handoverTo !== undefined;
      const others = list.filter((a) => !last(a));
      others.forEach((a, i) => steps.set(a, Math.floor(i / perStep) + 1));
      const lastStep = others.length === 0 ? 0 : Math.floor((others.length - 1) / perStep) + 1;
      for (const a of list) if (last(a)) steps.set(a, lastStep + 1);
    }
    const ranked = actions.map((a) => (steps.has(a) ? { ...a, step: steps.get(a)! } : a));
    // A cluster's replaces are adjacent (sorted by op, then cluster): order each run by step, moves
    // (no step) first; the sort is stable, so nodes keep their order within a step.
    const out: PlanAction[] = [];
    for (let i = 0; i < ranked.length; ) {
      const a = ranked[i]!;
      let j = i + 1;
      if (a.op === 'replace') while (j < ranked.length && ranked[j]!.op === 'replace' && ranked[j]!.cluster === a.cluster) j++;
      out.push(...ranked.slice(i, j).sort((x, y) => (x.step ?? 0) - (y.step ?? 0)));
      i = j;
    }
    return out;
  }

  private rank(cluster: string): number {
    return this.clusterOrder.get(cluster) ?? -1;
  }
}

/** A replace on the agent the node already runs on: the node restarts in place (a memory change). */
export function isRestartInPlace(a: PlanAction): boolean {
  return a.op === 'replace' && a.fromAgentId === a.agentId;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
