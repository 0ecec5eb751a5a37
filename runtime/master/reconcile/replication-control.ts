/**
 * The master's half of replication: which term and leader each leader-replicas cluster has (kept
 * with the applied spec), what a node is spawned with, promotions, and the step after every
 * reconcile pass that brings running nodes to that record.
 *
 * Terms: a new leader always gets a term above the recorded one and above any term a node
 * reports, recorded durably before any node hears of it, so no term is ever given to two leaders.
 * Order of a failover: the new leader is told first (SetRole leader, T+1); replicas are pointed at
 * it only once it reports leading T+1. A deposed leader the master cannot reach learns the term from
 * the replicas moved away from it (they announce it), and from the master when its agent returns.
 * Its write lease (runtime/agent/lease-keeper.ts) stopped its writes before the promotion; a
 * leader whose lease lapsed is renewed only once this control confirms it (same assignment again).
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { CompiledClusterSpec } from '../../../schema/index.js';
import { ordinalOf } from '../../../plan/index.js';
import { backoffDelay } from '../../../client/transport.js';
import { RuntimeError } from '../../errors.js';
import type { Logger } from '../../common/logger.js';
import type { NodeReplication, NodeView, ReplicationSettings } from '../../common/grid-types.js';
import type { AgentRegistry } from '../agent-registry.js';
import type { NodeOperations } from '../node-operations.js';
import type { DesiredState } from './reconciler.js';
import { ReplicationWatch, type ReplicationEvents } from './replication-watch.js';

/** What the replication control needs from the master. */
export interface ReplicationControlDeps {
  readonly registry: AgentRegistry;
  readonly ops: NodeOperations;
  readonly desired: () => DesiredState | undefined;
  /** Durably records `nodeId` as the cluster's leader in `term` (terms only rise). */
  readonly record: (cluster: string, nodeId: string, term: number) => Promise<void>;
  readonly logger: Logger;
  /** Told of role changes, catch-ups and lag, as the nodes report them. */
  readonly events?: ReplicationEvents;
}

/** The replication part of a spawn of a declared node. */
export interface SpawnReplication {
  readonly grid: string;
  /** Set for a leader or replica of a leader-replicas cluster. */
  readonly replication?: ReplicationSettings;
}

type Role = 'leader' | 'replica';

/** The settings a node of `c` is brought to (all but role, leader and term). */
export function clusterSettings(c: CompiledClusterSpec): Pick<ReplicationSettings, 'durability' | 'syncQuorum' | 'syncTimeoutMs'> {
  return { durability: c.replication.durability, syncQuorum: c.replication.syncQuorum, syncTimeoutMs: c.replication.syncTimeoutMs };
}

/**
 * Whether the node's report differs from the assignment (the quorum counts only for sync). A leader
 * whose agent awaits the master's word before renewing its write lease (it lapsed while the agent
 * was cut off) is told again: the same assignment, which confirms it still leads.
 */
function differs(r: NodeReplication, role: Role, leader: string, term: number, c: CompiledClusterSpec): boolean {
  const want = c.replication;
  return (
    r.role !== role ||
    (role === 'leader' && r.leaseUnconfirmed === true) ||
    r.term !== term ||
    (role === 'replica' && r.leader !== leader) ||
    r.durability !== want.durability ||
    (want.durability === 'sync' && r.syncQuorum !== want.syncQuorum)
  );
}

/** Whether `a` holds more of the log than `b`: a later last log term, then a longer log. */
export function holdsMore(a: NodeReplication, b: NodeReplication | undefined): boolean {
  if (b === undefined) return true;
  return a.lastLogTerm !== b.lastLogTerm ? a.lastLogTerm > b.lastLogTerm : a.logPosition > b.logPosition;
}

function position(r: NodeReplication | undefined): string {
  return r === undefined ? 'unknown position' : `position ${r.logPosition} (last log term ${r.lastLogTerm})`;
}

/** Least and most time before a failed configure of a node is tried again. */
const RETRY = { initialMs: 500, maxMs: 30_000 };

/** Terms, leaders and roles of leader-replicas clusters, as the master drives them. */
export class ReplicationControl {
  /** Configures in flight, by agent and node. */
  private readonly inFlight = new Set<string>();
  private readonly failures = new Map<string, { count: number; retryAtMs: number }>();
  /** Clusters whose record is being written (a term adopted or raised), or whose leader is being replaced. */
  private readonly recording = new Set<string>();
  /** Clusters an operator's handover drives by itself (planned-handover.ts): no sync, no failover meanwhile. */
  private readonly held = new Set<string>();
  private readonly watch: ReplicationWatch;

  constructor(private readonly deps: ReplicationControlDeps) {
    this.watch = new ReplicationWatch(deps.events ?? {});
  }

  /**
   * The grid name and replication settings a declared node is spawned with. A leader always starts
   * a new term (recorded first); a replica gets the recorded term and the leader's address once
   * the leader runs in it (else it starts following nobody, and {@link sync} points it later).
   */
  async spawnFields(cluster: string, nodeId: string, role: string): Promise<SpawnReplication> {
    const d = this.deps.desired();
    const c = d?.spec.clusters.find((x) => x.name === cluster);
    if (d === undefined || c === undefined || c.topology !== 'leader-replicas' || (role !== 'leader' && role !== 'replica')) return { grid: '' };
    const recorded = d.terms?.[cluster] ?? 0;
    if (role === 'leader') {
      const term = Math.max(recorded, this.highestTerm(cluster)) + 1;
      await this.deps.record(cluster, nodeId, term);
      this.deps.logger.info({ cluster, nodeId, term }, `cluster ${cluster}: ${nodeId} starts as leader of term ${term}`);
      return { grid: d.spec.name, replication: { ...clusterSettings(c), term, leaderAddress: '' } };
    }
    return { grid: d.spec.name, replication: { ...clusterSettings(c), term: Math.max(recorded, 1), leaderAddress: this.leaderAddress(d, cluster) } };
  }

  /**
   * Makes `nodeId` the cluster's leader in a new term. The running replicas are read afresh first:
   * when another holds more of the log (a later last log term, or a longer log), the promotion is
   * refused, and the fresh reads (now in the node table) make the next plan choose that one. Then
   * the term is recorded, the new leader told, and the replicas pointed at it (by {@link sync}).
   * The cluster's sync waits meanwhile: a leader whose agent comes back is not confirmed (its write
   * lease renewed) while it is being replaced; one back before the reads is kept instead.
   * @throws RuntimeError PROMOTION_REFUSED when the node cannot be read, another replica holds more,
   * or the leader it would replace runs and leads again
   */
  async promote(cluster: string, nodeId: string): Promise<void> {
    if (this.recording.has(cluster)) throw new RuntimeError('PROMOTION_REFUSED', `cluster ${cluster}: its leader record is being written: not promoting ${nodeId} meanwhile`, { cluster, nodeId });
    this.recording.add(cluster);
    try {
      await this.replaceLeader(cluster, nodeId);
    } finally {
      this.recording.delete(cluster);
    }
    const d = this.deps.desired();
    const c = d?.spec.clusters.find((x) => x.name === cluster);
    if (d !== undefined && c !== undefined && c.topology === 'leader-replicas') this.syncCluster(d, c, this.deps.registry.nodes.list({ cluster }));
  }

  /** {@link promote} up to telling the new leader. */
  private async replaceLeader(cluster: string, nodeId: string): Promise<void> {
    const d = this.deps.desired();
    const c = d?.spec.clusters.find((x) => x.name === cluster);
    if (d === undefined || c === undefined || c.topology !== 'leader-replicas') return;
    if (this.held.has(cluster)) throw new RuntimeError('PROMOTION_REFUSED', `cluster ${cluster}: a planned handover is in progress`, { cluster, nodeId });
    const previous = d.leaders[cluster];
    const fresh = await this.readRunning(c);
    const back = fresh.find((n) => n.nodeId === previous && previous !== nodeId && n.replication?.role === 'leader' && n.replication.term === d.terms?.[cluster]);
    if (back !== undefined) {
      throw new RuntimeError('PROMOTION_REFUSED', `cluster ${cluster}: its leader ${previous} runs and leads term ${back.replication!.term} again (its agent is back): not replacing it`, { cluster, nodeId });
    }
    const chosen = fresh.find((n) => n.nodeId === nodeId);
    if (chosen === undefined) throw new RuntimeError('PROMOTION_REFUSED', `cluster ${cluster}: ${nodeId} could not be read: not promoting it blind`, { cluster, nodeId });
    const better = fresh
      .filter((n) => n.nodeId !== nodeId && n.nodeId !== previous && n.replication?.role === 'replica' && !n.replication.catchingUp)
      .filter((n) => holdsMore(n.replication!, chosen.replication))
      .sort((a, b) => (holdsMore(a.replication!, b.replication) ? -1 : 1))[0];
    if (better !== undefined) {
      throw new RuntimeError(
        'PROMOTION_REFUSED',
        `cluster ${cluster}: ${better.nodeId} holds more of the log (${position(better.replication)}) than ${nodeId} (${position(chosen.replication)}): it is promoted instead`,
        { cluster, nodeId, better: better.nodeId },
      );
    }
    const term = this.nextTerm(cluster);
    await this.deps.record(cluster, nodeId, term);
    this.deps.logger.warn({ cluster, nodeId, previous, term }, `cluster ${cluster}: promoting ${nodeId} (${position(chosen.replication)}) to leader of term ${term}${previous !== undefined ? ` in place of ${previous}` : ''}`);
    // Recorded: should this fail, the step after the next pass tells it again.
    await this.configure(chosen, 'leader', '', term, c);
  }

  /**
   * Brings every running leader and replica of the leader-replicas clusters to the record: the
   * leader leads the recorded term; once it reports so, every other node follows it in that term.
   * Only nodes whose report differs are told, one call per node at a time, failures backing off.
   * Returns at once: the calls run on their own. Reports role changes, catch-ups and lag first.
   */
  sync(d: DesiredState): void {
    const nodes = this.deps.registry.nodes.list();
    this.watch.observe(nodes);
    // One walk over the nodes, not one per cluster.
    const byCluster = new Map<string, NodeView[]>();
    for (const n of nodes) {
      if (n.replication === undefined) continue;
      const list = byCluster.get(n.cluster);
      if (list === undefined) byCluster.set(n.cluster, [n]);
      else list.push(n);
    }
    for (const c of d.spec.clusters) if (c.topology === 'leader-replicas') this.syncCluster(d, c, byCluster.get(c.name) ?? []);
  }

  /**
   * Leaves the cluster to the caller (a planned handover) until {@link release}: sync does not
   * configure its nodes and a failover promotion is refused meanwhile.
   * @returns false when it is held already
   */
  hold(cluster: string): boolean {
    if (this.held.has(cluster)) return false;
    this.held.add(cluster);
    return true;
  }

  /** Ends a {@link hold} and brings the cluster's nodes to the record at once (replicas follow the new leader). */
  release(cluster: string): void {
    this.held.delete(cluster);
    const d = this.deps.desired();
    const c = d?.spec.clusters.find((x) => x.name === cluster);
    if (d !== undefined && c !== undefined && c.topology === 'leader-replicas') this.syncCluster(d, c, this.deps.registry.nodes.list({ cluster }));
  }

  /** The term a new leader of the cluster gets: above the recorded one and above any a node reports. */
  nextTerm(cluster: string): number {
    return Math.max(this.deps.desired()?.terms?.[cluster] ?? 0, this.highestTerm(cluster)) + 1;
  }

  /** {@link sync} of one cluster, given (at least) its nodes. */
  private syncCluster(d: DesiredState, c: CompiledClusterSpec, nodes: readonly NodeView[]): void {
    if (this.recording.has(c.name) || this.held.has(c.name)) return;
    const running = this.runningCopies(c, nodes).filter((n) => n.replication !== undefined && (n.role === 'leader' || n.role === 'replica'));
    let leaderId = d.leaders[c.name];
    const term = d.terms?.[c.name];
    if (leaderId === undefined) {
      // A cluster from before terms were recorded: adopt the leader the nodes were spawned as.
      leaderId = running.filter((n) => n.role === 'leader').sort((a, b) => (ordinalOf(c.name, a.nodeId) ?? 0) - (ordinalOf(c.name, b.nodeId) ?? 0))[0]?.nodeId;
      if (leaderId === undefined) return;
    }
    const leader = latest(running.filter((n) => n.nodeId === leaderId));
    const highest = running.reduce((max, n) => Math.max(max, n.replication!.term), 0);
    // The record is behind a node (an old store, or a leader-to-be already past it): a new term.
    const stale = term === undefined || highest > term || (leader !== undefined && leader.replication!.role !== 'leader' && leader.replication!.term >= term);
    if (stale) {
      this.raise(c.name, leaderId, Math.max(term ?? 0, highest) + 1);
      return;
    }
    if (leader === undefined) return;
    if (differs(leader.replication!, 'leader', '', term, c)) {
      void this.configure(leader, 'leader', '', term, c);
      return;
    }
    const address = this.addressOf(leader);
    if (address === undefined) return;
    for (const n of running) {
      if (n.nodeId === leaderId) continue;
      if (differs(n.replication!, 'replica', address, term, c)) void this.configure(n, 'replica', address, term, c);
    }
  }

  /** Records a new term for the cluster's leader; the next pass configures the nodes. */
  private raise(cluster: string, leaderId: string, term: number): void {
    this.recording.add(cluster);
    this.deps.logger.info({ cluster, nodeId: leaderId, term }, `cluster ${cluster}: recording ${leaderId} as leader of term ${term}`);
    this.deps.record(cluster, leaderId, term).then(
      () => this.recording.delete(cluster),
      (err: unknown) => {
        this.recording.delete(cluster);
        this.deps.logger.error({ cluster, err: (err as Error).message }, `cluster ${cluster}: recording term ${term} failed`);
      },
    );
  }

  /**
   * Tells one node its role through its agent, unless a call to it is in flight or backing off
   * after a failure. Never rejects: a failure is logged and backs off.
   */
  private async configure(n: NodeView, role: Role, leaderAddress: string, term: number, c: CompiledClusterSpec): Promise<void> {
    const key = `${n.agentId}\u0000${n.nodeId}`;
    const f = this.failures.get(key);
    if (this.inFlight.has(key) || (f !== undefined && f.retryAtMs > Date.now())) return;
    this.inFlight.add(key);
    try {
      await this.deps.ops.configure(n.agentId, { nodeId: n.nodeId, role, leaderAddress, term, ...clusterSettings(c) });
      this.failures.delete(key);
    } catch (err) {
      const count = (f?.count ?? 0) + 1;
      const delay = backoffDelay(count - 1, RETRY);
      this.failures.set(key, { count, retryAtMs: Date.now() + delay });
      const level = count === 1 ? 'warn' : 'debug';
      this.deps.logger[level]({ nodeId: n.nodeId, agentId: n.agentId, role, term, err: (err as Error).message, retryInMs: delay }, `configuring ${n.nodeId} as ${role} of term ${term} failed`);
    } finally {
      this.inFlight.delete(key);
    }
  }

  /** Every copy of the cluster's declared nodes (from `nodes`, else all it has) that runs on an agent the master can reach. */
  private runningCopies(c: CompiledClusterSpec, nodes: readonly NodeView[] = this.deps.registry.nodes.list({ cluster: c.name })): NodeView[] {
    return nodes.filter((n) => {
      const o = ordinalOf(c.name, n.nodeId);
      return n.cluster === c.name && o !== undefined && o < c.nodes && n.status === 'running' && this.reachable(n.agentId);
    });
  }

  /** The running copies read afresh through their agents (each bounded by the status deadline); unreadable ones are left out. */
  private async readRunning(c: CompiledClusterSpec): Promise<NodeView[]> {
    const read = await Promise.all(
      this.runningCopies(c).map(async (n) => {
        try {
          const r = await this.deps.ops.status(n.nodeId, n.agentId);
          return r.stale ? undefined : r.node;
        } catch (err) {
          const code = (err as { code?: unknown }).code;
          if (code !== GrpcStatus.NOT_FOUND) this.deps.logger.debug({ nodeId: n.nodeId, err: (err as Error).message }, 'replication read for a promotion failed');
          return undefined;
        }
      }),
    );
    return read.filter((n): n is NodeView => n !== undefined && n.status === 'running');
  }

  /** The highest term any copy of the cluster's nodes reported (0: none). */
  private highestTerm(cluster: string): number {
    return this.deps.registry.nodes.list({ cluster }).reduce((max, n) => Math.max(max, n.replication?.term ?? 0), 0);
  }

  /** HOST:PORT of the recorded leader when it runs leading the recorded term, else ''. */
  private leaderAddress(d: DesiredState, cluster: string): string {
    const leaderId = d.leaders[cluster];
    const term = d.terms?.[cluster];
    if (leaderId === undefined || term === undefined) return '';
    const c = d.spec.clusters.find((x) => x.name === cluster)!;
    const leader = latest(this.runningCopies(c).filter((n) => n.nodeId === leaderId));
    if (leader?.replication?.role !== 'leader' || leader.replication.term !== term) return '';
    return this.addressOf(leader) ?? '';
  }

  /** Where replicas reach a node: its agent's host and the node's port. */
  addressOf(n: NodeView): string | undefined {
    const agent = this.deps.registry.get(n.agentId);
    if (agent === undefined || n.port <= 0) return undefined;
    const address = agent.info.address;
    return `${address.slice(0, address.lastIndexOf(':'))}:${n.port}`;
  }

  private reachable(agentId: string): boolean {
    const a = this.deps.registry.get(agentId);
    return a !== undefined && a.health !== 'offline';
  }
}

/** The most recently started of some copies of one node. */
export function latest(copies: readonly NodeView[]): NodeView | undefined {
  return [...copies].sort((a, b) => b.startedAtMs - a.startedAtMs)[0];
}
