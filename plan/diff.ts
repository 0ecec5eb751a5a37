/**
 * The diff between the declared grid and the live one: which nodes to create, destroy, update or
 * replace, and where. Pure: the same spec, live state and options always give the same plan.
 */
import type { CompiledClusterSpec, CompiledGridSpec, NodeRole } from '../schema/index.js';
import { compareCopies, judgeCopy, type JudgedCopy } from './copies.js';
import { formatMemory } from './format.js';
import { nodeIdFor, ordinalOf } from './node-identity.js';
import { PlanCollector } from './plan-collector.js';
import { AgentPool, type Slot } from './scheduler.js';
import type { LiveAgent, LiveNode, LiveState, Plan, PlanOptions } from './types.js';
import { validateLive, validateOptions, validateSpec } from './validate-input.js';

/** Everything one plan computation shares. */
interface Context {
  readonly pool: AgentPool;
  readonly agents: ReadonlyMap<string, LiveAgent>;
  readonly graceMs: number;
  readonly assignments: Readonly<Record<string, string>>;
  readonly out: PlanCollector;
}

/** A node of a declared cluster that needs an agent. */
interface Pending {
  readonly ordinal: number;
  /** `create`: nothing usable exists; `replace`: a lost copy is replaced; `move`: a good copy must leave its agent. */
  readonly kind: 'create' | 'replace' | 'move';
  readonly from?: JudgedCopy;
  readonly reason: string;
  /** A move off a draining agent: a rollout step of its cluster. */
  readonly paced?: boolean;
}

/** The verdict on one declared cluster before placement. */
interface ClusterWork {
  readonly cluster: CompiledClusterSpec;
  readonly keepers: Map<number, JudgedCopy>;
  readonly pending: Pending[];
  /** Good keepers whose memory changes in place (replace on the same agent). */
  readonly resized: Set<number>;
  /** Whether any live copy of the cluster claims to be leader (else a new leader is elected, not promoted). */
  readonly sawLeader: boolean;
}

/**
 * Plans how to take the grid from `live` to `spec`.
 *
 * Node `<cluster>-<k>` fills ordinal k; scale down removes the highest ordinals. Nodes with an
 * empty cluster were spawned by hand: never touched, but they do use capacity. A node on a
 * degraded agent, or on one offline for less than the grace, is left alone; past the grace it is
 * replaced elsewhere, and when its agent returns the stale copy is destroyed, never duplicated.
 *
 * @throws PlanError `PLAN_INVALID_SPEC`, `PLAN_INVALID_LIVE_STATE` or `PLAN_INVALID_OPTIONS`.
 */
export function planGrid(spec: CompiledGridSpec, live: LiveState, opts: PlanOptions = {}): Plan {
  validateSpec(spec);
  validateLive(live);
  validateOptions(opts);
  const clusterOrder = new Map(spec.clusters.map((c, i) => [c.name, i]));
  const ctx: Context = {
    pool: new AgentPool(spec, live.agents, live.cordons, live.draining),
    agents: new Map(live.agents.map((a) => [a.id, a])),
    graceMs: opts.replaceAfterMs ?? spec.monitoring.replaceAfterMs,
    assignments: opts.assignments ?? {},
    out: new PlanCollector(clusterOrder, new Map(spec.clusters.map((c) => [c.name, c.update.maxUnavailable]))),
  };

  const byCluster = new Map<string, LiveNode[]>();
  for (const n of live.nodes) {
    // A stopped node holds neither a process nor a port.
    if (n.status !== 'stopped') ctx.pool.charge(n.agentId, n.cluster, n.memoryMb);
    if (!n.cluster) continue;
    const list = byCluster.get(n.cluster);
    if (list) list.push(n);
    else byCluster.set(n.cluster, [n]);
  }

  // Removals first, across all clusters, so the capacity they free is there for placements.
  for (const [name, nodes] of byCluster) {
    if (clusterOrder.has(name)) continue;
    for (const n of nodes) removeCopy(ctx, judgeCopy(n, ctx.agents.get(n.agentId), ctx.graceMs), `cluster ${name} is no longer declared`);
  }
  const work = spec.clusters.map((c) => analyse(ctx, c, byCluster.get(c.name) ?? []));
  for (const w of work) place(ctx, w);
  return ctx.out.finish();
}

/** Destroys a copy now if its agent answers, else defers it until the agent returns. */
function removeCopy(ctx: Context, copy: JudgedCopy, reason: string): void {
  const n = copy.node;
  // A stopped copy has no process left, and its agent forgot it when the stop ended: the master
  // lists it only until that agent's next heartbeat. Nothing to destroy (a plan right after an
  // apply that stopped it showed a destroy of it, while the apply's wait had rightly ended).
  if (n.status === 'stopped') return;
  if (!copy.reachable) {
    ctx.out.defer(n.cluster, n.nodeId, n.agentId, `${reason} (waits for ${n.agentId} to return)`);
    return;
  }
  ctx.pool.release(n.agentId, n.cluster, n.memoryMb);
  ctx.out.action('destroy', n.cluster, n.nodeId, n.agentId, n.role, n.memoryMb, reason);
}

/** Sorts out one cluster's live nodes: what is kept, what goes, what needs an agent. */
function analyse(ctx: Context, cluster: CompiledClusterSpec, nodes: readonly LiveNode[]): ClusterWork {
  const copies = new Map<number, JudgedCopy[]>();
  for (const n of nodes) {
    const copy = judgeCopy(n, ctx.agents.get(n.agentId), ctx.graceMs);
    const ordinal = ordinalOf(cluster.name, n.nodeId);
    if (ordinal === undefined) {
      removeCopy(ctx, copy, `${n.nodeId} is not a node id of cluster ${cluster.name} (${cluster.name}-<ordinal>)`);
    } else if (ordinal >= cluster.nodes) {
      removeCopy(ctx, copy, `scale down to ${cluster.nodes} node${cluster.nodes === 1 ? '' : 's'}`);
    } else {
      const list = copies.get(ordinal);
      if (list) list.push(copy);
      else copies.set(ordinal, [copy]);
    }
  }

  const leaderOrdinals = new Set<number>();
  if (cluster.topology === 'leader-replicas') {
    for (const [o, list] of copies) if (list.some((c) => c.condition !== 'lost' && c.node.role === 'leader')) leaderOrdinals.add(o);
  }

  const keepers = new Map<number, JudgedCopy>();
  const pending: Pending[] = [];
  const resized = new Set<number>();
  for (let o = 0; o < cluster.nodes; o++) {
    const list = copies.get(o);
    if (!list) {
      pending.push({ ordinal: o, kind: 'create', reason: 'missing' });
      continue;
    }
    const nodeId = nodeIdFor(cluster.name, o);
    const leaderElsewhere = leaderOrdinals.size > (leaderOrdinals.has(o) ? 1 : 0);
    const assigned = ctx.assignments[nodeId];
    list.sort((a, b) => compareCopies(a, b, assigned, leaderElsewhere));
    const best = list[0]!;
    if (best.condition !== 'lost') {
      keepers.set(o, best);
      for (const extra of list.slice(1)) removeCopy(ctx, extra, `stale copy: ${nodeId} is kept on ${best.node.agentId}`);
      if (best.condition === 'good') checkKeeper(ctx, cluster, o, best, pending, resized);
      continue;
    }
    for (const extra of list.slice(1)) removeCopy(ctx, extra, `stale copy of ${nodeId}`);
    if (best.reachable && best.node.status !== 'stopped') {
      // The replace stops this copy, so its slot is free for the replacement.
      ctx.pool.release(best.node.agentId, cluster.name, best.node.memoryMb);
    }
    pending.push({ ordinal: o, kind: 'replace', from: best, reason: best.why });
  }
  return { cluster, keepers, pending, resized, sawLeader: nodes.some((n) => n.role === 'leader') };
}

/** A good keeper may have to move (placement no longer allowed) or be resized in place. */
function checkKeeper(
  ctx: Context,
  cluster: CompiledClusterSpec,
  ordinal: number,
  copy: JudgedCopy,
  pending: Pending[],
  resized: Set<number>,
): void {
  const n = copy.node;
  const misplaced = ctx.pool.misplacement(cluster, n.agentId);
  if (misplaced !== undefined) {
    pending.push({ ordinal, kind: 'move', from: copy, reason: misplaced, ...(ctx.pool.isDraining(n.agentId) ? { paced: true } : {}) });
    return;
  }
  if (n.memoryMb === cluster.memoryMb) return;
  const change = `memory ${formatMemory(n.memoryMb)} -> ${formatMemory(cluster.memoryMb)}`;
  if (ctx.pool.canGrow(n.agentId, cluster.memoryMb - n.memoryMb)) {
    ctx.pool.release(n.agentId, cluster.name, n.memoryMb);
    ctx.pool.charge(n.agentId, cluster.name, cluster.memoryMb);
    resized.add(ordinal);
  } else {
    pending.push({ ordinal, kind: 'move', from: copy, reason: `${change}: does not fit on ${n.agentId}` });
  }
}

/** Who leads a leader-replicas cluster after this plan. */
interface LeaderChoice {
  readonly ordinal: number | undefined;
  readonly promoted: boolean;
  /** The leader leaves a draining agent: the replica it first hands its leadership to. */
  readonly heir?: string;
  /** The leader must leave a draining agent but no replica can take over yet: it stays this pass. */
  readonly held?: number;
}

/**
 * Leader choice of a leader-replicas cluster: keep a live leader, else promote, else elect a new
 * slot. A leader whose agent is offline is not kept, even within `replaceAfter`: nobody can vouch
 * that it still takes writes, and a replica holding every acknowledged write is ready to. (Its
 * copy is left alone until the agent returns; the new term fences it.)
 *
 * A leader on a draining agent is never moved as leader (a new copy starts empty, and replicas
 * following an empty leader would cut their logs back): it first hands its leadership to the
 * running replica holding the most (a planned handover, as for a restart) and moves as that
 * replica's replica. Until one runs off the agent (the replicas move first), the leader stays.
 */
function chooseLeader(w: ClusterWork): LeaderChoice {
  const kept = keptLeader(w);
  if (kept === undefined) return promoteOrElect(w);
  const move = w.pending.find((p) => p.ordinal === kept && p.paced === true);
  if (move === undefined) return { ordinal: kept, promoted: false };
  const heir = handoverHeir(w, kept);
  if (heir !== undefined) return { ordinal: kept, promoted: false, heir };
  // A cluster of one node has nobody to hand over to: its leader moves as it is.
  return w.cluster.nodes > 1 ? { ordinal: kept, promoted: false, held: kept } : { ordinal: kept, promoted: false };
}

/** The live leader kept, if any. */
function keptLeader(w: ClusterWork): number | undefined {
  let leader: number | undefined;
  let leaderRank = Infinity;
  for (const [o, k] of w.keepers) {
    if (k.node.role !== 'leader' || !k.reachable) continue;
    // Prefer a leader we may act on, then a running one, then the lowest ordinal.
    const rank = (k.condition === 'good' ? 0 : 2) + (k.node.status === 'running' ? 0 : 1);
    if (rank < leaderRank || (rank === leaderRank && o < (leader ?? Infinity))) {
      leader = o;
      leaderRank = rank;
    }
  }
  return leader;
}

/** The running replica holding the most, that neither moves nor restarts: every write a sync leader acknowledged is on it. */
function bestReplica(w: ClusterWork): number | undefined {
  const moving = new Set(w.pending.map((p) => p.ordinal));
  let candidate: { ordinal: number; node: LiveNode } | undefined;
  for (const [o, k] of w.keepers) {
    if (k.condition === 'good' && k.node.status === 'running' && !moving.has(o) && !w.resized.has(o)) {
      if (candidate === undefined || holdsMore(k.node, o, candidate.node, candidate.ordinal)) candidate = { ordinal: o, node: k.node };
    }
  }
  return candidate?.ordinal;
}

/** No live leader: promote the best running replica, else elect the first slot to place. */
function promoteOrElect(w: ClusterWork): LeaderChoice {
  const candidate = bestReplica(w);
  if (candidate !== undefined) return { ordinal: candidate, promoted: true };
  let first: number | undefined;
  for (const p of w.pending) if (first === undefined || p.ordinal < first) first = p.ordinal;
  return { ordinal: first, promoted: false };
}

/** Decides roles, emits in-place changes, then asks the scheduler for the rest. */
function place(ctx: Context, w: ClusterWork): void {
  const { cluster } = w;
  const leaderReplicas = cluster.topology === 'leader-replicas';
  const leader: LeaderChoice = leaderReplicas ? chooseLeader(w) : { ordinal: undefined, promoted: false };
  const roleOf = (o: number): NodeRole => (!leaderReplicas ? 'standalone' : o === leader.ordinal ? 'leader' : 'replica');
  const held = leader.held;
  const pendingByOrdinal = new Set(w.pending.filter((p) => p.ordinal !== held).map((p) => p.ordinal));

  for (const [o, k] of w.keepers) {
    if (pendingByOrdinal.has(o)) continue;
    const n = k.node;
    const role = roleOf(o);
    if (k.condition !== 'good') {
      ctx.out.keep();
      continue;
    }
    const roleChange = n.role === role ? '' : roleReason(n.role, role, leader.promoted, w.sawLeader);
    if (w.resized.has(o)) {
      const change = `memory ${formatMemory(n.memoryMb)} -> ${formatMemory(cluster.memoryMb)}: restart on ${n.agentId}`;
      // A running leader restarts last, and first hands its leadership to a running replica with
      // no acknowledged write lost: it comes back as that replica's replica.
      const heir = role === 'leader' && !roleChange && n.status === 'running' ? handoverHeir(w, o) : undefined;
      if (heir !== undefined) {
        ctx.out.action('replace', cluster.name, n.nodeId, n.agentId, 'replica', cluster.memoryMb, `${change}; hands leadership to ${heir} first`, n.agentId, { handoverTo: heir });
        continue;
      }
      const reason = roleChange ? `${change}; ${roleChange}` : change;
      ctx.out.action('replace', cluster.name, n.nodeId, n.agentId, role, cluster.memoryMb, reason, n.agentId);
    } else if (roleChange) {
      ctx.out.action('update', cluster.name, n.nodeId, n.agentId, role, n.memoryMb, roleChange);
    } else {
      ctx.out.keep();
    }
  }

  const pending = w.pending.filter((p) => p.ordinal !== held).sort((a, b) => a.ordinal - b.ordinal);
  const slots: Slot[] = pending.map((p) =>
    p.from?.node.status === 'failed' || p.kind === 'move'
      ? { ordinal: p.ordinal, memoryMb: cluster.memoryMb, avoid: p.from!.node.agentId }
      : { ordinal: p.ordinal, memoryMb: cluster.memoryMb },
  );
  const result = ctx.pool.place(cluster, slots);
  const missing: string[] = [];
  for (const p of pending) {
    const nodeId = nodeIdFor(cluster.name, p.ordinal);
    const agentId = result.placed.get(p.ordinal);
    const from = p.from?.node;
    if (agentId === undefined) {
      if (p.kind === 'move' && from) {
        ctx.out.keep();
        ctx.out.unplaced({
          cluster: cluster.name,
          nodeIds: [nodeId],
          reason: `cluster ${cluster.name}: ${nodeId} stays on ${from.agentId} (${p.reason}): ${result.reason}`,
        });
      } else {
        missing.push(nodeId);
      }
      continue;
    }
    if (p.kind === 'move' && from) ctx.pool.release(from.agentId, cluster.name, from.memoryMb);
    const paced = p.paced === true;
    if (from && p.ordinal === leader.ordinal && leader.heir !== undefined) {
      // The leader leaves a draining agent: it hands over first and comes back as the heir's replica.
      const surge = surges(ctx, cluster, p, 'replica');
      ctx.out.action('replace', cluster.name, nodeId, agentId, 'replica', cluster.memoryMb, `${p.reason}; hands leadership to ${leader.heir} first`, from.agentId, { handoverTo: leader.heir, paced, surge });
      continue;
    }
    const role = roleOf(p.ordinal);
    if (from) ctx.out.action('replace', cluster.name, nodeId, agentId, role, cluster.memoryMb, p.reason, from.agentId, { paced, surge: surges(ctx, cluster, p, role) });
    else ctx.out.action('create', cluster.name, nodeId, agentId, role, cluster.memoryMb, p.reason);
  }
  if (missing.length > 0) {
    ctx.out.unplaced({
      cluster: cluster.name,
      nodeIds: missing,
      reason: `cluster ${cluster.name}: ${missing.length} of ${cluster.nodes} nodes unplaced: ${result.reason}`,
    });
  }
}

/**
 * The replica a restarting leader (at `leaderOrdinal`) hands over to: a good, running keeper that
 * stays on its agent, holding the most of the log (then the lowest ordinal); none when there is no
 * such replica (a cluster of one node restarts its leader in place).
 */
function handoverHeir(w: ClusterWork, leaderOrdinal: number): string | undefined {
  const moving = new Set(w.pending.map((p) => p.ordinal));
  let heir: { ordinal: number; node: LiveNode } | undefined;
  for (const [o, k] of w.keepers) {
    if (o === leaderOrdinal || moving.has(o) || k.condition !== 'good' || k.node.status !== 'running') continue;
    if (heir === undefined || holdsMore(k.node, o, heir.node, heir.ordinal)) heir = { ordinal: o, node: k.node };
  }
  return heir?.node.nodeId;
}

/** Whether node `a` (at ordinal `ao`) is the better promotion: a later last log term, a longer log, then the lower ordinal. */
function holdsMore(a: LiveNode, ao: number, b: LiveNode, bo: number): boolean {
  const ra = a.replication;
  const rb = b.replication;
  const termA = ra?.lastLogTerm ?? 0;
  const termB = rb?.lastLogTerm ?? 0;
  if (termA !== termB) return termA > termB;
  const posA = ra?.logPosition ?? 0;
  const posB = rb?.logPosition ?? 0;
  if (posA !== posB) return posA > posB;
  return ao < bo;
}

function roleReason(from: NodeRole | '', to: NodeRole, promoted: boolean, sawLeader: boolean): string {
  if (to === 'leader') return promoted && sawLeader ? 'leader lost: promote' : `no leader: elect (role ${from || 'none'} -> leader)`;
  if (from === 'leader' && to === 'replica') return 'duplicate leader: demote to replica';
  return `role ${from || 'none'} -> ${to}`;
}

/**
 * Whether a move starts its new copy before the old one stops (the cluster's `maxSurge`): only
 * for a running copy on a healthy agent (the old copy must answer its stop later), and never as a
 * leader: two copies of one leader would both take writes, so a leader hands over first and
 * moves as a replica.
 */
function surges(ctx: Context, cluster: CompiledClusterSpec, p: Pending, role: NodeRole): boolean {
  const from = p.from?.node;
  if (p.kind !== 'move' || from === undefined || cluster.update.maxSurge < 1 || role === 'leader') return false;
  return from.status === 'running' && ctx.agents.get(from.agentId)?.health === 'healthy';
}
