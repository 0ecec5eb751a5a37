import { randomBytes } from 'node:crypto';
import { RuntimeError } from '../errors.js';
import type { ConceptStore } from './concept-store.js';
import { QuorumTracker } from './quorum-tracker.js';
import { announceTerm, ReplicaFollower, type FollowerHost } from './replica-follower.js';
import { badField, needsLaterTerm, notLeader, staleTerm } from './replication-errors.js';
import type { DurabilityName, ReplicationOptions, StorageRoleName } from './replication-options.js';
import { ReplicationSource, type ReplicaProgressView, type SourceHost } from './replication-source.js';
import { startingAssignment, TermFile, type RoleAssignment } from './term-file.js';
import { WriteLease } from './write-lease.js';
import type { NodeDialer } from './node-tls.js';

/** An address bound to every interface, which nobody can dial as this node. */
function isWildcard(address: string): boolean {
  return /^(0\.0\.0\.0|\[::\]|::):\d+$/.test(address);
}

/** A role change asked for (SetRole); durability and quorum left undefined keep the current ones. */
export interface RoleChange {
  readonly role: StorageRoleName;
  readonly leader: string;
  readonly term: number;
  readonly durability?: DurabilityName | undefined;
  readonly syncQuorum?: number | undefined;
  /** A leader handing over within its term: refuse writes this long (ms) while serving the log. */
  readonly handOverMs?: number | undefined;
}


/** Where a node stands (GetReplicationStatus). */
export interface ReplicationStatusView extends RoleAssignment {
  readonly nodeId: string;
  readonly grid: string;
  readonly cluster: string;
  readonly logPosition: number;
  readonly lastLogTerm: number;
  readonly appliedPosition: number;
  readonly catchingUp: boolean;
  readonly leaderLogPosition: number;
  readonly connected: boolean;
  readonly replicas: ReplicaProgressView[];
  readonly lastError: string;
}

/** Settings of a node that SetRole does not change. */
export interface NodeSettings {
  readonly grid: string;
  readonly cluster: string;
  readonly nodeId: string;
  readonly syncTimeoutMs: number;
  /** Presented to the leader by a replica (the fleet shares one token). */
  readonly token: string | undefined;
  /** How a replica dials its leader (mutual TLS with the node's certificate, or plaintext). */
  readonly dialer: NodeDialer;
  readonly log: (line: string) => void;
}

/**
 * A storage node's replication state machine: its role, term and leader (persisted in term.json),
 * the leader's source of streams and quorum of acks, the replica's follower. The term only rises:
 * assignments of a lower term are refused, a leader seeing a higher term steps down, a replica takes
 * the higher term of its leader's stream before appending its records.
 */
export class ReplicationNode implements SourceHost, FollowerHost {
  private readonly tracker: QuorumTracker;
  readonly source: ReplicationSource;
  private follower: ReplicaFollower | undefined;
  private stopped = false;
  /** host:port this node is bound to, to tell a "leader" hint naming this very node. */
  private selfAddress = '';
  /**
   * Until when (wall clock) this leader refuses writes: a planned handover. It expires on its own,
   * so a grid that dies mid-handover leaves a leader, not a cluster that refuses every write.
   */
  private handOverUntilMs = 0;

  private constructor(
    private readonly store: ConceptStore,
    private readonly termFile: TermFile,
    private readonly settings: NodeSettings,
    private a: RoleAssignment,
    private readonly lease: WriteLease,
  ) {
    this.tracker = new QuorumTracker(a.syncQuorum);
    this.tracker.onCommit = (p) => store.commit(p);
    this.source = new ReplicationSource(store, this.tracker, this);
  }

  /**
   * The node for `store`: its starting assignment from the flags, term.json and the log (see
   * startingAssignment), written back to term.json when it is not what the file holds.
   */
  static async open(store: ConceptStore, storagePath: string, opts: ReplicationOptions, settings: Omit<NodeSettings, 'grid' | 'cluster' | 'nodeId' | 'syncTimeoutMs'>): Promise<ReplicationNode> {
    const termFile = new TermFile(storagePath);
    const file = await termFile.read();
    const flags: RoleAssignment = { role: opts.role, leader: opts.leader, term: opts.term, durability: opts.durability, syncQuorum: opts.syncQuorum };
    const { assignment, note } = startingAssignment(flags, file, store.lastLogTerm);
    if (note !== '') settings.log(note);
    if (assignment.role === 'replica' && opts.nodeId === '') throw badField('--node-id', `${termFile.path} makes this node a replica, which needs --node-id`);
    if (file === undefined ? assignment.role !== 'standalone' || assignment.term > 0 : JSON.stringify(file) !== JSON.stringify(assignment)) await termFile.write(assignment);
    const lease = new WriteLease(opts.writeLeaseUntilMs !== undefined, settings.log);
    // Read once, here: from now on the lease runs on the monotonic clock.
    const initialMs = (opts.writeLeaseUntilMs ?? 0) - Date.now();
    if (initialMs > 0) lease.grant(assignment.term, initialMs);
    return new ReplicationNode(store, termFile, { ...settings, grid: opts.grid, cluster: opts.cluster, nodeId: opts.nodeId, syncTimeoutMs: opts.syncTimeoutMs }, assignment, lease);
  }

  /** Starts what the starting role needs (a replica's follower, a sync leader's read gate), once bound to `selfAddress`. */
  async start(selfAddress: string): Promise<void> {
    this.selfAddress = selfAddress;
    const starting = this.a;
    this.a = { ...starting, role: 'standalone', leader: '' };
    await this.enter(starting, false);
  }

  get term(): number {
    return this.a.term;
  }

  get role(): StorageRoleName {
    return this.a.role;
  }

  get leading(): boolean {
    return this.a.role === 'leader' && !this.stopped;
  }

  get nodeId(): string {
    return this.settings.nodeId;
  }

  /** This process's instance, new at each start: see FollowerHost.copy. */
  readonly copy = randomBytes(8).toString('hex');

  log(line: string): void {
    this.settings.log(line);
  }

  notLeader(): RuntimeError {
    return notLeader(this.a.role, this.a.term, this.a.leader);
  }

  /**
   * @throws RuntimeError NOT_LEADER (FAILED_PRECONDITION naming the leader) on a replica or a leader
   * handing over; LEASE_EXPIRED (UNAVAILABLE) on a leader whose write lease lapsed
   */
  checkWritable(): void {
    if (this.a.role === 'replica') throw this.notLeader();
    if (this.a.role !== 'leader') return;
    const left = this.handOverUntilMs - Date.now();
    if (left > 0) {
      throw new RuntimeError('NOT_LEADER', `this leader is handing over leadership of term ${this.a.term} and refuses writes (for at most ${left} ms more): retry on the new leader`, {
        leader: '',
        term: this.a.term,
      });
    }
    this.lease.check(this.a.term, 'write');
  }

  /**
   * Resolves when a write taken in `term` whose record is at `position` (0: it changed nothing) may
   * be acknowledged: at once unless this node is a sync leader, then once its quorum holds the
   * record; in either case only while the lease of `term` still holds (a leader cut off while the
   * write waited must not acknowledge it: another node may lead by now).
   * @throws RuntimeError QUORUM_UNAVAILABLE (UNAVAILABLE) when the quorum does not answer in time;
   * LEASE_EXPIRED (UNAVAILABLE) when the lease lapsed meanwhile
   */
  async acknowledge(position: number, term: number): Promise<void> {
    if (position === 0 || this.a.role !== 'leader') return;
    if (this.a.durability === 'sync') await this.tracker.waitFor(position, this.settings.syncTimeoutMs);
    this.lease.check(term, `acknowledging the write at log position ${position}`);
  }

  /**
   * Extends this leader's write lease of `term` by `ms` from now. @returns the lease granted (0 for
   * a node without a lease: its writes never lapse)
   * @throws RuntimeError STALE_TERM (FAILED_PRECONDITION) for another term than the node's;
   * NOT_LEADER when it does not lead
   */
  renewLease(term: number, ms: number): number {
    const cur = this.a.term;
    if (term < cur) throw staleTerm('RenewLease', term, cur);
    if (term > cur) throw new RuntimeError('STALE_TERM', `RenewLease: term ${term} is past this node's term ${cur}: it was not assigned here`, { field: 'term', term: cur });
    if (this.a.role !== 'leader' || this.stopped) throw this.notLeader();
    if (!this.lease.enabled) return 0;
    this.lease.grant(term, ms);
    return ms;
  }

  /**
   * Applies a role assignment (SetRole). Refused (STALE_TERM) below the node's term; becoming leader
   * needs a higher term than the node has seen, unless it already leads that term; a leader becomes
   * a replica, and a replica standalone, only in a later term (two writers in one term would break
   * the logs' agreement).
   */
  async setRole(change: RoleChange): Promise<ReplicationStatusView> {
    const cur = this.a;
    if (change.term < cur.term) throw staleTerm('SetRole', change.term, cur.term);
    if ((change.handOverMs ?? 0) > 0) return this.handOver(change.term, change.handOverMs ?? 0);
    const same = change.term === cur.term;
    if (change.role === 'leader' && same && cur.role !== 'leader') throw needsLaterTerm(`SetRole: a ${cur.role} becomes leader`, cur.term);
    if (change.role === 'replica' && same && cur.role === 'leader') throw needsLaterTerm('SetRole: a leader becomes a replica', cur.term);
    if (change.role === 'standalone' && same && cur.role === 'replica') throw needsLaterTerm('SetRole: a replica becomes standalone', cur.term);
    if (change.role === 'replica' && this.settings.nodeId === '') throw badField('role', 'a replica needs a node id: start the server with --node-id');
    if (change.role === 'replica' && change.leader === this.selfAddress) throw badField('leader', `${change.leader} is this node itself`);
    const durability = change.durability ?? cur.durability;
    if (durability === 'sync' && change.role === 'standalone') throw badField('durability', 'sync needs a leader or replica role');
    await this.enter({ role: change.role, leader: change.leader, term: change.term, durability, syncQuorum: change.syncQuorum ?? cur.syncQuorum });
    return this.status();
  }

  /**
   * A planned handover: refuses new writes for `ms` while replicas still stream the log, and
   * answers once every record appended is durable here, so the status's position is the last one a
   * successor needs. Only a leader within its own term hands over; any later assignment ends it.
   */
  private async handOver(term: number, ms: number): Promise<ReplicationStatusView> {
    if (this.a.role !== 'leader' || term !== this.a.term) {
      throw badField('hand_over_ms', `only a leader hands over, within its own term (this node is a ${this.a.role} in term ${this.a.term}; asked for term ${term})`);
    }
    this.handOverUntilMs = Date.now() + ms;
    this.log(`handing over leadership of term ${term}: refusing writes for at most ${ms} ms`);
    // Writes checked before the fence were appended in the same tick: wait for them to be durable.
    const target = this.store.appendedPosition;
    if (this.store.position < target) {
      await new Promise<void>((resolve) => {
        const off = this.store.onDurable((p) => {
          if (p < target) return;
          off();
          resolve();
        });
      });
    }
    return this.status();
  }

  /**
   * A replica (or its ack) carries a higher term: this leader steps down, following `leader` when
   * given. A node deposed without learning who leads takes the leader a replica of its term names.
   */
  async deposedBy(term: number, leader: string, by: string): Promise<void> {
    if (leader === this.selfAddress) leader = '';
    const { role, term: current } = this.a;
    if (role === 'leader' && term > current) {
      this.log(`${by} is in term ${term}, past this leader's term ${current}: stepping down${leader !== '' ? ` to follow ${leader}` : ''}`);
      await this.enter({ ...this.a, role: 'replica', leader, term });
    } else if (role === 'replica' && this.a.leader === '' && leader !== '' && term >= current) {
      this.log(`${by} names ${leader} the leader of term ${term}: following it`);
      await this.enter({ ...this.a, leader, term });
    }
  }

  /** The leader streams in a higher term: a replica takes it. */
  async adoptTerm(term: number): Promise<void> {
    if (term <= this.a.term || this.a.role !== 'replica') return;
    await this.enter({ ...this.a, term });
  }

  /**
   * Moves to `next`: fencing in memory at once, then term.json, then the follower. A leader leaving
   * its term fails its waiting sync writes and ends its streams.
   */
  private async enter(next: RoleAssignment, persist = true): Promise<void> {
    const prev = this.a;
    this.a = next;
    this.handOverUntilMs = 0;
    const leftLeadership = prev.role === 'leader' && (next.role !== 'leader' || next.term !== prev.term);
    if (leftLeadership) {
      this.tracker.failAll(`this node stopped leading term ${prev.term}`);
      this.source.stopAll(this.notLeader());
    }
    if (leftLeadership || (next.role === 'leader' && prev.role !== 'leader')) this.tracker.reset();
    this.tracker.setQuorum(next.syncQuorum);
    if (next.role === 'leader' && next.durability === 'sync') this.store.holdReads();
    else this.store.releaseReads();
    const writing = persist ? this.termFile.write(next) : Promise.resolve();
    const follow = next.role === 'replica' && next.leader !== '' && !this.stopped ? next.leader : undefined;
    if (this.follower !== undefined && this.follower.leader !== follow) {
      const old = this.follower;
      this.follower = undefined;
      await old.stop();
    }
    if (prev.role === 'replica' && prev.leader !== '' && prev.leader !== follow && next.term > prev.term) {
      // Best effort: a deposed leader the grid cannot reach learns the new term (and who leads) from us.
      const newLeader = follow ?? (next.role === 'leader' && !isWildcard(this.selfAddress) ? this.selfAddress : '');
      void announceTerm(prev.leader, next.term, newLeader, this.settings.nodeId, this.settings.token, this.settings.dialer).catch(() => undefined);
    }
    await writing;
    if (follow !== undefined && this.follower === undefined && this.a === next) {
      this.follower = new ReplicaFollower(this.store, follow, this, this.settings.token, this.settings.dialer);
      this.follower.start();
    }
    if (prev.role !== next.role || prev.term !== next.term || prev.leader !== next.leader) {
      this.log(`role ${next.role} in term ${next.term}${next.leader !== '' ? `, following ${next.leader}` : ''}${next.role === 'leader' ? `, ${next.durability}` : ''}`);
    }
  }

  /** Where this node stands. */
  status(): ReplicationStatusView {
    const f = this.follower;
    return {
      ...this.a,
      nodeId: this.settings.nodeId,
      grid: this.settings.grid,
      cluster: this.settings.cluster,
      logPosition: this.store.position,
      lastLogTerm: this.store.terms.termAt(this.store.position) ?? 0,
      appliedPosition: this.store.appliedPosition,
      catchingUp: this.a.role === 'replica' && !(f?.caughtUp ?? false),
      leaderLogPosition: f?.leaderPosition ?? 0,
      connected: f?.connected ?? false,
      replicas: this.a.role === 'leader' ? this.source.progress() : [],
      lastError: f?.lastError ?? '',
    };
  }

  /** Stops following and serving streams; waiting sync writes fail. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.tracker.failAll('the server is stopping');
    this.source.stopAll();
    const f = this.follower;
    this.follower = undefined;
    await f?.stop();
  }
}
