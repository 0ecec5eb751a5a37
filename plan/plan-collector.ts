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
  private unchanged = 0;

  /** `clusterOrder` ranks declared clusters; undeclared ones sort first, by name. */
  constructor(private readonly clusterOrder: ReadonlyMap<string, number>) {}

  action(
    op: PlanOp,
    cluster: string,
    nodeId: string,
    agentId: string,
    role: NodeRole | '',
    memoryMb: number,
    reason: string,
    fromAgentId?: string,
  ): void {
    // Literal key order here is the JSON key order of the plan.
    const action: PlanAction =
      fromAgentId === undefined
        ? { op, cluster, nodeId, agentId, role, memoryMb, reason }
        : { op, cluster, nodeId, agentId, fromAgentId, role, memoryMb, reason };
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
    const actions = [...this.entries]
      .sort((x, y) => OP_RANK[x.action.op] - OP_RANK[y.action.op] || byKey(key(x, x.action), key(y, y.action)))
      .map((e) => e.action);
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

  private rank(cluster: string): number {
    return this.clusterOrder.get(cluster) ?? -1;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
