/**
 * What the agent knows of its nodes' replication: it reads each leader's and replica's
 * GetReplicationStatus when the node starts serving and then on a short poll, and relays
 * ConfigureNode to SetRole. Every call is bounded by a deadline and at most one read per node is in
 * flight, so a hung node delays nothing but its own report.
 */
import type { Logger } from '../common/logger.js';
import { NodeControl, type ReplicationAnswer, type RoleChange } from './node-control.js';
import type { NodeRecord } from './node-record.js';
import { isReplicated } from './replication-assignment.js';
import { nodeDialAddress, type SupervisorOptions } from './node-types.js';

/** Longest a status read may take. */
const READ_DEADLINE_MS = 1000;
/** Longest a SetRole may take (it writes the node's term.json durably). */
const SET_ROLE_DEADLINE_MS = 5000;
/** Most time between two reads of a node's replication. */
const MAX_POLL_MS = 1000;

/** Reads and changes the replication of the supervisor's nodes. */
export class ReplicationReader {
  private readonly pollMs: number;
  /** The read in flight of each node. */
  private readonly reading = new WeakMap<NodeRecord, Promise<void>>();
  /** Bumped by every change of the node's role or run: a read started before it is stale. */
  private readonly epochs = new WeakMap<NodeRecord, number>();

  /**
   * @param token what nodes check on calls (the node token), undefined for tokenless nodes
   * @param healthCheckIntervalMs the agent's liveness interval; reads are at least this frequent, and at most a second apart
   */
  constructor(
    private readonly token: string | undefined,
    healthCheckIntervalMs: number,
    private readonly logger: Logger,
    /** Where nodes bind and their certificates (mutual TLS), when they have them. */
    private readonly net: Pick<SupervisorOptions, 'nodeHost' | 'nodeTls'> = {},
  ) {
    this.pollMs = Math.max(50, Math.min(healthCheckIntervalMs, MAX_POLL_MS));
  }

  /** Whether the node takes part in replication (and so is read). */
  watches(r: NodeRecord): boolean {
    return isReplicated(r.spec.role);
  }

  /** A new run starts: nothing it reported is known yet, and it has not caught up. */
  resetRun(r: NodeRecord): void {
    this.bump(r);
    r.replication = undefined;
    r.caughtUp = false;
  }

  /**
   * Reads the node's replication once, within the deadline; a failed read keeps the last answer
   * (the node may be busy; the liveness probe judges whether it is alive). One read per node at a
   * time: a poll finding one in flight skips its turn; a `fresh` read (a status asked for, as a
   * promotion does) waits for it and reads again, so its answer is from after the call. Never throws.
   */
  async read(r: NodeRecord, fresh = false): Promise<void> {
    if (!this.watches(r)) return;
    const inFlight = this.reading.get(r);
    if (inFlight !== undefined) {
      if (!fresh) return;
      await inFlight;
      return this.read(r, fresh);
    }
    const run = this.readOnce(r).finally(() => this.reading.delete(r));
    this.reading.set(r, run);
    await run;
  }

  private async readOnce(r: NodeRecord): Promise<void> {
    const epoch = this.epochs.get(r) ?? 0;
    try {
      const answer = await this.control(r).status(READ_DEADLINE_MS);
      if ((this.epochs.get(r) ?? 0) === epoch) this.store(r, answer);
    } catch (err) {
      this.logger.debug({ nodeId: r.spec.nodeId, err: (err as Error).message }, 'replication status read failed');
    }
  }

  /** Polls the node's replication until {@link stop} or `signal` aborts. */
  start(r: NodeRecord, signal: AbortSignal): void {
    if (!this.watches(r)) return;
    this.stop(r);
    r.replicationPoll = setInterval(() => {
      if (signal.aborted) this.stop(r);
      else void this.read(r);
    }, this.pollMs);
    r.replicationPoll.unref();
  }

  stop(r: NodeRecord): void {
    if (r.replicationPoll !== undefined) clearInterval(r.replicationPoll);
    r.replicationPoll = undefined;
  }

  /**
   * Relays a role change to the running node. A node moved to another leader, or made a replica,
   * has to catch up again before it counts as caught up.
   * @throws the node's refusal (FAILED_PRECONDITION for a stale term) or the call's error
   */
  async setRole(r: NodeRecord, change: RoleChange): Promise<void> {
    const before = r.replication;
    this.bump(r);
    const answer = await this.control(r).setRole(change, SET_ROLE_DEADLINE_MS);
    if (change.role === 'replica' && (before?.role !== 'replica' || before.leader !== change.leader)) r.caughtUp = false;
    this.store(r, answer);
  }

  /** Extends the node's write lease of `term` by `leaseMs` (lease-keeper.ts). @throws the node's refusal or the call's error */
  async renewLease(r: NodeRecord, term: number, leaseMs: number): Promise<void> {
    await this.control(r).renewLease(term, leaseMs);
  }

  /** Closes the node's control channel (its port moved, or the agent closes). */
  closeControl(r: NodeRecord): void {
    r.control?.close();
    r.control = undefined;
  }

  private bump(r: NodeRecord): void {
    this.epochs.set(r, (this.epochs.get(r) ?? 0) + 1);
  }

  private control(r: NodeRecord): NodeControl {
    const address = nodeDialAddress(this.net, r.spec.port);
    // A renewed agent certificate: dial again (the node refuses calls on a connection whose certificate expired).
    const version = this.net.nodeTls?.agent.version ?? 0;
    if (r.control !== undefined && (r.control.address !== address || r.control.tlsVersion !== version)) this.closeControl(r);
    r.control ??= new NodeControl(address, this.token, this.net.nodeTls?.dial(r.spec.nodeId, NodeControl.CHANNEL_OPTIONS));
    return r.control;
  }

  /** Keeps an answer; `catchingUp` is latched: once caught up in this run, a lost leader does not undo it. */
  private store(r: NodeRecord, a: ReplicationAnswer): void {
    if (a.role !== 'replica' || !a.catchingUp) r.caughtUp = true;
    r.replication = { ...a, catchingUp: a.catchingUp && !r.caughtUp, readAtMs: Date.now() };
  }
}
