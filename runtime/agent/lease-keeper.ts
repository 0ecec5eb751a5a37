/**
 * The write leases of the agent's grid leaders (the node's side: runtime/storage/write-lease.ts).
 *
 * Why at most one node of a cluster takes writes at any moment, even when a leader's agent is cut
 * off from the master (a network partition, or the agent stopped with SIGSTOP) while the leader
 * itself runs on:
 *  1. The master replaces a leader whose node still runs only once that node's agent has been
 *     silent for offlineAfter: it counts from the last call of the agent it heard.
 *  2. Every lease this agent grants ends at most `leaseMs` = offlineAfter/2 after it SENT a call the
 *     master answered. The master heard that call no earlier than it was sent, so it holds the agent
 *     online until at least `sentAt + offlineAfter`: the last lease granted before the agent fell
 *     silent has lapsed offlineAfter/2 before any promotion. That margin covers the clocks' rates
 *     (the master's and the agent's monotonic clocks run apart by far less than half) and the
 *     renewal's flight: a renewal carries its lease's end as its deadline, and the node cuts the
 *     lease to it, so one that leaves late grants nothing past that end.
 *     A restarted master promotes nothing for its settle period plus replaceAfter unless it has
 *     heard from every declared agent, which outlasts a lease begun before it died.
 *  3. A lease that lapsed is not renewed by the next answer: the master may have promoted another
 *     node while it heard nothing of this agent. The agent reports the leader unconfirmed; the
 *     master either tells it its assignment again (ConfigureNode as leader of the same term, which
 *     confirms it) or makes it a replica of the new leader. A promotion under way keeps the
 *     cluster's confirmations waiting, and is called off when the old leader is back before it.
 * Leases run on monotonic clocks; only the node's start flag is a wall-clock instant (read once).
 */
import type { Logger } from '../common/logger.js';
import type { NodeRecord } from './node-record.js';
import type { ReplicationReader } from './node-replication.js';
import { monotonicMs } from './monotonic-clock.js';

/** offlineAfter of a master that does not send one (the master's default): an older master. */
export const DEFAULT_OFFLINE_AFTER_MS = 30_000;

/** Shortest lease worth sending: less would lapse before the node had it. */
const MIN_RENEWAL_MS = 20;

/** The lease a leader may hold past an answered call, for a master holding agents to `offlineAfterMs`. */
export function leaseMsFor(offlineAfterMs: number | undefined): number {
  return Math.floor((offlineAfterMs ?? DEFAULT_OFFLINE_AFTER_MS) / 2);
}

/** Whether the node takes a write lease: leaders and replicas of a grid (a replica may be promoted). */
export function isLeased(r: NodeRecord): boolean {
  const rep = r.spec.replication;
  return (r.spec.role === 'leader' || r.spec.role === 'replica') && rep !== undefined && rep.grid !== '';
}

/** Whether the node leads, as it last said (as it was launched, before it said anything). */
function leads(r: NodeRecord): boolean {
  return r.replication !== undefined ? r.replication.role === 'leader' : r.spec.role === 'leader';
}

/** Renews the leases of the supervisor's grid leaders after each call the master answers. */
export class LeaseKeeper {
  /** When the last call the master answered was sent (monotonic ms); undefined before any. */
  private sentAtMs: number | undefined;
  private leaseMs = leaseMsFor(undefined);

  constructor(
    private readonly reader: ReplicationReader,
    private readonly logger: Logger,
    private readonly now: () => number = monotonicMs,
  ) {}

  /** Milliseconds left of the lease the master's last answer allows (0: none). */
  remainingMs(): number {
    return this.sentAtMs === undefined ? 0 : Math.max(0, this.sentAtMs + this.leaseMs - this.now());
  }

  /**
   * The flag value a node is launched with: the wall-clock end of the lease it may start with (0
   * for a replica or an unconfirmed leader); undefined for a node without a lease.
   */
  launchUntilMs(r: NodeRecord): number | undefined {
    if (!isLeased(r)) return undefined;
    const ms = r.spec.role === 'leader' && !r.leaseUnconfirmed ? Math.floor(this.remainingMs()) : 0;
    return ms >= MIN_RENEWAL_MS ? Date.now() + ms : 0;
  }

  /**
   * A leader found by a new agent process may have been replaced while no agent renewed it: it
   * waits for the master's word.
   */
  adopted(r: NodeRecord): void {
    if (isLeased(r) && leads(r)) r.leaseUnconfirmed = true;
  }

  /** Marks the node unconfirmed when its lease lapsed (a grant existed and ran out). Cheap, idempotent. */
  sweep(r: NodeRecord): void {
    if (r.leaseUnconfirmed || this.sentAtMs === undefined || this.remainingMs() > 0 || !isLeased(r) || !leads(r)) return;
    r.leaseUnconfirmed = true;
    this.logger.warn({ nodeId: r.spec.nodeId }, `node ${r.spec.nodeId}: its write lease lapsed while the master was not heard; it takes writes again once the master confirms it leads`);
  }

  /**
   * The master answered a call sent at `sentAtMs`: leases may run to `sentAtMs + offlineAfter/2`.
   * Leaders whose lease lapsed before this answer are marked unconfirmed first; the rest are renewed.
   */
  answered(sentAtMs: number, offlineAfterMs: number | undefined, nodes: Iterable<NodeRecord>): void {
    const records = [...nodes];
    for (const r of records) this.sweep(r);
    this.sentAtMs = Math.max(this.sentAtMs ?? sentAtMs, sentAtMs);
    this.leaseMs = leaseMsFor(offlineAfterMs);
    for (const r of records) void this.renew(r);
  }

  /** The master assigned the node its role (ConfigureNode): it is confirmed, and a leader renewed at once. */
  confirmed(r: NodeRecord): void {
    if (r.leaseUnconfirmed) this.logger.info({ nodeId: r.spec.nodeId }, `node ${r.spec.nodeId}: the master confirmed its role; renewing its write lease`);
    r.leaseUnconfirmed = false;
    void this.renew(r);
  }

  /**
   * Renews the node's lease when it runs, leads, is confirmed and a lease is left. Renewals of one
   * node may overlap (a busy node answers late; the node keeps the furthest end): each ends by its
   * own deadline, so a hung node has at most leaseMs / heartbeat of them in flight. Never rejects.
   */
  async renew(r: NodeRecord): Promise<void> {
    const rep = r.replication;
    if (r.status !== 'running' || rep?.role !== 'leader' || r.leaseUnconfirmed || !isLeased(r)) return;
    const ms = Math.floor(this.remainingMs());
    if (ms < MIN_RENEWAL_MS) return;
    try {
      await this.reader.renewLease(r, rep.term, ms);
    } catch (err) {
      // The node is busy, restarting, or no longer leads that term (the next read says so).
      this.logger.debug({ nodeId: r.spec.nodeId, term: rep.term, err: (err as Error).message }, 'write lease renewal failed');
    }
  }
}
