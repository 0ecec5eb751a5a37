/**
 * A planned promotion (`sutra-grid promote NODE`): leadership of a leader-replicas cluster moves to
 * a caught-up replica with no acknowledged write lost, in async and sync mode alike.
 *
 * Order, and why:
 * 1. The leader is fenced: it refuses new writes (for a bounded time, so a master lost mid-way
 *    leaves a leader, not a cluster refusing every write) but keeps streaming its log, and answers
 *    with its final position once every write it took is durable.
 * 2. The replica is waited for until it holds that position. Too slow: the fence is lifted and
 *    the old leader leads on; the caller gets FAILED_PRECONDITION.
 * 3. The old leader becomes a replica of the next term, following the replica: from here it can
 *    never take a write of its own term again. (Before the record: a master lost here finds it a
 *    replica past the recorded term and makes it lead a later one, with all its data.)
 * 4. The new term is recorded, then the replica is told to lead it; the others follow it once the
 *    cluster is released to the replication sync.
 */
import type { Logger } from '../../common/logger.js';
import type { NodeView } from '../../common/grid-types.js';
import { RuntimeError } from '../../errors.js';
import { sleep } from '../../../client/transport.js';
import type { AgentRegistry } from '../agent-registry.js';
import type { NodeOperations } from '../node-operations.js';
import type { DesiredState, ReconcilerEvents } from './reconciler.js';
import { clusterSettings, latest, type ReplicationControl } from './replication-control.js';

/** What a handover needs from the master. */
export interface HandoverDeps {
  readonly registry: AgentRegistry;
  readonly ops: NodeOperations;
  readonly control: ReplicationControl;
  readonly desired: () => DesiredState | undefined;
  /** Durably records `nodeId` as the cluster's leader in `term`. */
  readonly record: (cluster: string, nodeId: string, term: number) => Promise<void>;
  readonly logger: Logger;
  readonly events?: Pick<ReconcilerEvents, 'leaderChanged'>;
}

/** How long each step may take. */
export interface HandoverOptions {
  /** Longest wait for the replica to reach the fenced leader's position. @default 10000 */
  readonly catchUpMs?: number;
  /** Between two reads of the replica's position. @default 50 */
  readonly pollMs?: number;
}

/** A completed handover. */
export interface HandoverResult {
  readonly cluster: string;
  readonly nodeId: string;
  readonly previous: string;
  readonly term: number;
  /** The log position handed over: every record the old leader held. */
  readonly logPosition: number;
}

/** The fence outlives the catch-up wait by this much, covering the steps after it. */
const FENCE_MARGIN_MS = 5_000;

function refused(message: string, context: Record<string, unknown>): RuntimeError {
  return new RuntimeError('PROMOTION_REFUSED', message, context);
}

/** Runs planned handovers, one per cluster at a time. */
export class PlannedHandover {
  private readonly catchUpMs: number;
  private readonly pollMs: number;

  constructor(
    private readonly deps: HandoverDeps,
    opts: HandoverOptions = {},
  ) {
    this.catchUpMs = opts.catchUpMs ?? 10_000;
    this.pollMs = opts.pollMs ?? 50;
  }

  /**
   * Hands the leadership of `nodeId`'s cluster to `nodeId`.
   * @throws RuntimeError NODE_NOT_FOUND for a node the master does not know; NODE_NOT_RUNNING when
   * it does not run; PROMOTION_REFUSED (FAILED_PRECONDITION) when it is not a caught-up replica of
   * a leader-replicas cluster whose leader runs, or did not catch up in time (the leader leads on).
   */
  async promote(nodeId: string): Promise<HandoverResult> {
    const { leader, replica, cluster, term, d } = this.check(nodeId);
    const c = d.spec.clusters.find((x) => x.name === cluster)!;
    const settings = clusterSettings(c);
    const [l, r] = await Promise.all([this.read(leader), this.read(replica)]);
    const lr = l.replication;
    const rr = r.replication;
    const leaderAddress = this.deps.control.addressOf(l);
    if (lr?.role !== 'leader' || lr.term !== term || leaderAddress === undefined) {
      throw refused(`cluster ${cluster}: the leader ${l.nodeId} does not lead term ${term} yet (it reports ${lr === undefined ? 'nothing' : `${lr.role} in term ${lr.term}`}): try again once it does`, { cluster, nodeId });
    }
    if (rr?.role !== 'replica' || rr.term !== term || rr.leader !== leaderAddress) {
      throw refused(`${nodeId} is not a replica following the leader ${l.nodeId} in term ${term} (it reports ${rr === undefined ? 'nothing' : `${rr.role} in term ${rr.term}${rr.leader !== '' ? ` following ${rr.leader}` : ''}`})`, { cluster, nodeId });
    }
    if (rr.catchingUp) {
      throw refused(`${nodeId} is still catching up with the leader ${l.nodeId} (position ${rr.logPosition} of ${rr.leaderLogPosition}): promote it once it has caught up`, { cluster, nodeId });
    }
    const newAddress = this.deps.control.addressOf(r);
    if (newAddress === undefined) throw refused(`${nodeId}: its agent's address is not known`, { cluster, nodeId });
    if (!this.deps.control.hold(cluster)) throw refused(`cluster ${cluster}: another handover is in progress`, { cluster, nodeId });
    try {
      this.deps.logger.warn({ cluster, nodeId, previous: l.nodeId, term }, `cluster ${cluster}: handing leadership over from ${l.nodeId} to ${nodeId}`);
      // 1. Fence.
      let target: number;
      try {
        const fenced = await this.deps.ops.configure(l.agentId, { nodeId: l.nodeId, role: 'leader', leaderAddress: '', term, ...settings, handOverMs: this.catchUpMs + FENCE_MARGIN_MS });
        target = fenced.replication?.logPosition ?? Number.NaN;
        if (!Number.isFinite(target)) throw new Error('the leader answered without its log position');
      } catch (err) {
        await this.resume(l, term, settings);
        throw refused(`cluster ${cluster}: the leader ${l.nodeId} could not be fenced for the handover: ${(err as Error).message}`, { cluster, nodeId });
      }
      // 2. Catch up.
      const reached = await this.waitFor(r, target, term);
      if (reached < target) {
        await this.resume(l, term, settings);
        throw refused(`${nodeId} did not catch up with the leader ${l.nodeId} within ${this.catchUpMs} ms (position ${reached} of ${target}): ${l.nodeId} leads on`, { cluster, nodeId });
      }
      // 3. Depose the old leader for good.
      const newTerm = this.deps.control.nextTerm(cluster);
      try {
        await this.deps.ops.configure(l.agentId, { nodeId: l.nodeId, role: 'replica', leaderAddress: newAddress, term: newTerm, ...settings });
      } catch (err) {
        // Perhaps applied (a lost answer): the sync makes it lead a later term if so.
        await this.resume(l, term, settings);
        throw refused(`cluster ${cluster}: the leader ${l.nodeId} could not be made a replica of term ${newTerm}: ${(err as Error).message}; it leads on`, { cluster, nodeId });
      }
      // 4. Record, then lead.
      await this.deps.record(cluster, nodeId, newTerm);
      this.deps.events?.leaderChanged?.({ cluster, nodeId, previous: l.nodeId, reason: 'planned handover (promote)', term: newTerm });
      try {
        await this.deps.ops.configure(r.agentId, { nodeId, role: 'leader', leaderAddress: '', term: newTerm, ...settings });
      } catch (err) {
        // Recorded: the sync tells it again until it leads.
        this.deps.logger.warn({ cluster, nodeId, term: newTerm, err: (err as Error).message }, `cluster ${cluster}: telling ${nodeId} to lead term ${newTerm} failed; the master retries`);
      }
      this.deps.logger.warn({ cluster, nodeId, previous: l.nodeId, term: newTerm, logPosition: target }, `cluster ${cluster}: ${nodeId} leads term ${newTerm} (handed over at position ${target})`);
      return { cluster, nodeId, previous: l.nodeId, term: newTerm, logPosition: target };
    } finally {
      this.deps.control.release(cluster);
    }
  }

  /** The checks that need no call: the node, its cluster, the recorded leader and term. */
  private check(nodeId: string): { leader: NodeView; replica: NodeView; cluster: string; term: number; d: DesiredState } {
    const copies = this.deps.registry.nodes.list().filter((n) => n.nodeId === nodeId);
    if (copies.length === 0) throw new RuntimeError('NODE_NOT_FOUND', `node "${nodeId}" not found`, { nodeId });
    const d = this.deps.desired();
    const cluster = copies[0]!.cluster;
    const c = d?.spec.clusters.find((x) => x.name === cluster);
    if (d === undefined || c === undefined || cluster === '') {
      throw refused(`${nodeId} is not a node of a declared cluster: only a replica of a leader-replicas cluster is promoted`, { nodeId });
    }
    if (c.topology !== 'leader-replicas') throw refused(`${nodeId} is in cluster ${cluster}, whose topology is ${c.topology}: only a replica of a leader-replicas cluster is promoted`, { cluster, nodeId });
    const leaderId = d.leaders[cluster];
    const term = d.terms?.[cluster];
    if (leaderId === undefined || term === undefined) throw refused(`cluster ${cluster} has no leader recorded yet: try again once it has`, { cluster, nodeId });
    if (leaderId === nodeId) throw refused(`${nodeId} is already the leader of cluster ${cluster} (term ${term})`, { cluster, nodeId });
    const replica = this.running(nodeId);
    if (replica === undefined) {
      const status = latest(copies)?.status ?? 'unknown';
      throw new RuntimeError('NODE_NOT_RUNNING', `${nodeId} is ${status} (or its agent is offline): only a running replica is promoted`, { cluster, nodeId });
    }
    const leader = this.running(leaderId);
    if (leader === undefined) throw refused(`cluster ${cluster}: its leader ${leaderId} is not running; the master fails over on its own`, { cluster, nodeId });
    return { leader, replica, cluster, term, d };
  }

  /** The newest running copy of a node on an agent the master can reach. */
  private running(nodeId: string): NodeView | undefined {
    return latest(
      this.deps.registry.nodes.list().filter((n) => {
        const a = this.deps.registry.get(n.agentId);
        return n.nodeId === nodeId && n.status === 'running' && a !== undefined && a.health !== 'offline';
      }),
    );
  }

  /** The node read afresh through its agent. @throws PROMOTION_REFUSED when it cannot be read */
  private async read(n: NodeView): Promise<NodeView> {
    const { node, stale } = await this.deps.ops.status(n.nodeId, n.agentId);
    if (stale) throw refused(`${n.nodeId} could not be read through its agent ${n.agentId}: not handing over blind`, { nodeId: n.nodeId });
    return node;
  }

  /** Reads the replica until it holds `target` records of `term`'s leader or the wait ends; its last position. */
  private async waitFor(r: NodeView, target: number, term: number): Promise<number> {
    const deadline = Date.now() + this.catchUpMs;
    let position = r.replication?.logPosition ?? 0;
    for (;;) {
      try {
        const { node, stale } = await this.deps.ops.status(r.nodeId, r.agentId);
        const rep = node.replication;
        if (!stale && rep !== undefined) {
          if (rep.role !== 'replica' || rep.term !== term) return position;
          position = rep.logPosition;
          if (position >= target) return position;
        }
      } catch (err) {
        this.deps.logger.debug({ nodeId: r.nodeId, err: (err as Error).message }, 'handover: reading the replica failed');
      }
      if (Date.now() >= deadline) return position;
      await sleep(this.pollMs);
    }
  }

  /** Lifts the fence: the old leader takes writes again in its term. Best effort: the fence also expires. */
  private async resume(l: NodeView, term: number, settings: ReturnType<typeof clusterSettings>): Promise<void> {
    try {
      await this.deps.ops.configure(l.agentId, { nodeId: l.nodeId, role: 'leader', leaderAddress: '', term, ...settings });
    } catch (err) {
      this.deps.logger.warn({ nodeId: l.nodeId, term, err: (err as Error).message }, `handover: ${l.nodeId} could not be told to lead term ${term} again; its fence expires on its own`);
    }
  }
}
