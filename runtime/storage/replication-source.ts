import type { ServerWritableStream } from '@grpc/grpc-js';
import type { ReplicateResponse } from '../../proto/gen/sutra/grid/v1/storage.pb.js';
import { RuntimeError } from '../errors.js';
import type { ConceptStore } from './concept-store.js';
import type { QuorumTracker } from './quorum-tracker.js';
import { badField, staleTerm } from './replication-errors.js';

/** Bytes of records per stream message (one larger record still goes alone). */
export const MAX_BATCH_BYTES = 1024 * 1024;
/** Records per stream message; a replica refuses more. */
export const MAX_BATCH_RECORDS = 512;
/** A stream with nothing to send carries a heartbeat this often, so a replica can tell a quiet leader from a lost one. */
export const HEARTBEAT_MS = 1000;
/** Replicas one leader tracks at once (a cluster has at most 5,000 nodes; this bounds what strangers can make it hold). */
export const MAX_REPLICAS = 256;

/** One replica as its leader sees it. */
export interface ReplicaProgressView {
  readonly replicaId: string;
  /** Highest position it reported durable. */
  readonly ackedPosition: number;
  /** Highest position sent to it. */
  readonly sentPosition: number;
  readonly connected: boolean;
  readonly catchingUp: boolean;
  /** Wall-clock time of its last ack; 0 before the first. */
  readonly lastAckAtMs: number;
}

/** A checked ReplicateRequest. */
export interface ReplicateAsk {
  readonly replicaId: string;
  /** The replica process's instance: copies of one node stream side by side. */
  readonly copy: string;
  readonly term: number;
  readonly fromPosition: number;
  readonly lastLogTerm: number;
  readonly leader: string;
}

/** What the source needs from its node. */
export interface SourceHost {
  readonly term: number;
  readonly leading: boolean;
  /** The refusal a non-leader gives (naming the leader when known). */
  notLeader(): RuntimeError;
  /** A replica's request in `term`, naming `leader` (may be empty): see ReplicationNode.deposedBy. */
  deposedBy(term: number, leader: string, by: string): Promise<void>;
}

interface Session {
  readonly replicaId: string;
  /** {@link sessionKey} of the replica's node and process. */
  readonly key: string;
  sent: number;
  connected: boolean;
  caughtUp: boolean;
  lastAckAtMs: number;
  readonly abort: AbortController;
}

/**
 * The leader's side of replication: one stream per replica, from the position the handshake agreed
 * on, fed by the records as they become durable here; and the replicas' acks, which feed the quorum
 * tracker. Every message carries the leader's term; a request carrying a higher one deposes it.
 */
export class ReplicationSource {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly store: ConceptStore,
    private readonly tracker: QuorumTracker,
    private readonly host: SourceHost,
  ) {}

  private async checkTerm(term: number, leader: string, by: string): Promise<number> {
    // The host decides: a leader of a lower term steps down, a leaderless replica learns who leads.
    if (term > this.host.term || !this.host.leading) await this.host.deposedBy(term, leader, by);
    if (!this.host.leading) throw this.host.notLeader();
    return this.host.term;
  }

  /**
   * Does the replica's log, `fromPosition` records whose last has `lastLogTerm`, end on a record this
   * log holds? Records of one term come from its one leader, so a match there means the whole prefix
   * matches.
   */
  private matches(fromPosition: number, lastLogTerm: number): boolean {
    return fromPosition === 0 || (fromPosition <= this.store.appendedPosition && this.store.terms.termAt(fromPosition) === lastLogTerm);
  }

  /** Serves one Replicate stream until the replica goes, a newer stream replaces it, or this node stops leading. */
  async serve(ask: ReplicateAsk, call: ServerWritableStream<unknown, ReplicateResponse>): Promise<void> {
    const term = await this.checkTerm(ask.term, ask.leader, `replica ${ask.replicaId}`);
    if (!this.matches(ask.fromPosition, ask.lastLogTerm)) {
      const { term: t, end } = this.store.terms.endOf(ask.lastLogTerm);
      call.write({ term, leaderPosition: this.store.position, truncation: { term: t, endPosition: end } });
      call.end();
      return;
    }
    const key = sessionKey(ask.replicaId, ask.copy);
    // Earlier processes of this node that are gone (a restart) are forgotten; one still
    // streaming is another copy (a move starting its new copy first) and streams on.
    for (const s of this.sessions.values()) {
      if (s.replicaId === ask.replicaId && s.key !== key && !s.connected) {
        this.sessions.delete(s.key);
        this.tracker.forget(s.key);
      }
    }
    const previous = this.sessions.get(key);
    if (previous === undefined && this.sessions.size >= MAX_REPLICAS) {
      throw new RuntimeError('CAPACITY_EXCEEDED', `this leader already tracks ${MAX_REPLICAS} replicas`, { field: 'replica_id' });
    }
    // A newer stream from the same replica process replaces the old one, which just ends.
    previous?.abort.abort();
    const caughtUp = ask.fromPosition >= this.store.position;
    const session: Session = { replicaId: ask.replicaId, key, sent: ask.fromPosition, connected: true, caughtUp, lastAckAtMs: previous?.lastAckAtMs ?? 0, abort: new AbortController() };
    this.sessions.set(key, session);
    // The handshake proved the replica durably holds this prefix of our log.
    this.tracker.ack(key, ask.fromPosition);
    const signal = session.abort.signal;
    const end = (): void => session.abort.abort();
    call.on('cancelled', end);
    call.on('close', end);
    try {
      await this.pump(session, call, term, signal);
    } finally {
      session.connected = false;
    }
    // A stop, a role change or a newer stream ends this one with a status; the replica going does not.
    if (signal.reason instanceof RuntimeError) throw signal.reason;
    call.end();
  }

  private async pump(session: Session, call: ServerWritableStream<unknown, ReplicateResponse>, term: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (session.sent < this.store.position) {
        const records = await this.store.readRecords(session.sent + 1, MAX_BATCH_BYTES, MAX_BATCH_RECORDS);
        if (signal.aborted) return;
        const first = session.sent + 1;
        session.sent += records.length;
        if (!call.write({ term, leaderPosition: this.store.position, records: { firstPosition: first, records } })) await waitFor(call, 'drain', signal);
      } else if (!(await this.durableBeyond(session.sent, signal)) && !signal.aborted) {
        call.write({ term, leaderPosition: this.store.position, heartbeat: {} });
      }
    }
  }

  /** True once the log is durable past `position`; false after a heartbeat interval or on abort. */
  private durableBeyond(position: number, signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (v: boolean): void => {
        clearTimeout(timer);
        off();
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      };
      const onAbort = (): void => done(false);
      const timer = setTimeout(() => done(false), HEARTBEAT_MS);
      const off = this.store.onDurable((p) => {
        if (p > position) done(true);
      });
      signal.addEventListener('abort', onAbort, { once: true });
      if (this.store.position > position) done(true);
    });
  }

  /** A replica's durable position. @throws FAILED_PRECONDITION for a stale term or an unknown replica */
  async ack(replicaId: string, copy: string, term: number, position: number): Promise<number> {
    if (term < this.host.term) throw staleTerm(`ack from replica ${replicaId}`, term, this.host.term);
    const current = await this.checkTerm(term, '', `replica ${replicaId}`);
    const s = this.sessions.get(sessionKey(replicaId, copy));
    if (s === undefined) {
      throw new RuntimeError('STALE_TERM', `replica ${replicaId} has no replication stream from this leader in term ${current}`, { field: 'replica_id' });
    }
    if (position > s.sent) throw badField('position', `${position} is past the ${s.sent} records sent to replica ${replicaId}`);
    this.tracker.ack(s.key, position);
    s.lastAckAtMs = Date.now();
    if (position >= this.store.position) s.caughtUp = true;
    return current;
  }

  /**
   * Ends every stream and forgets the replicas (a new term or role, or a stop): with `reason` as the
   * streams' status when given, else as a plain end.
   */
  stopAll(reason?: RuntimeError): void {
    for (const s of this.sessions.values()) s.abort.abort(reason);
    this.sessions.clear();
  }

  /** Every replica streaming (or that streamed) from this leader in this term. */
  progress(): ReplicaProgressView[] {
    return [...this.sessions.values()].map((s) => ({
      replicaId: s.replicaId,
      ackedPosition: this.tracker.ackedBy(s.key),
      sentPosition: s.sent,
      connected: s.connected,
      catchingUp: !s.caughtUp,
      lastAckAtMs: s.lastAckAtMs,
    }));
  }
}

/** A replica process as the leader tracks it: its node id and its instance. */
function sessionKey(replicaId: string, copy: string): string {
  return `${replicaId}\u0000${copy}`;
}

/** Resolves on `event` or on abort. */
function waitFor(call: { once(ev: string, fn: () => void): unknown; removeListener(ev: string, fn: () => void): unknown }, event: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.removeListener(event, done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.once(event, done);
    signal.addEventListener('abort', done, { once: true });
  });
}
