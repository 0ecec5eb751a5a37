import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { StorageReplicationClient, type LogTruncation, type ReplicateResponse } from '../../proto/gen/sutra/grid/v1/storage.pb.js';
import { authMetadata, backoffDelay, sleep, unary } from '../../client/transport.js';
import { PLAINTEXT_DIALER, type NodeDialer } from './node-tls.js';
import type { ConceptStore } from './concept-store.js';
import { badField, staleTerm } from './replication-errors.js';
import { HEARTBEAT_MS, MAX_BATCH_RECORDS } from './replication-source.js';

/** A stream silent this long (several heartbeats) is taken as lost and opened again. */
export const LEADER_SILENCE_MS = 5 * HEARTBEAT_MS;
const ACK_TIMEOUT_MS = 5000;

/** What the follower needs from its node. */
export interface FollowerHost {
  readonly term: number;
  readonly nodeId: string;
  /** This process's instance (hex): the leader tells two copies of one node apart by it. */
  readonly copy: string;
  /** The leader streams in a higher term: take it (durably) before any of its records is appended. */
  adoptTerm(term: number): Promise<void>;
  /** One line for the node's log. */
  log(line: string): void;
}

function message(err: unknown): string {
  const e = err as Partial<ServiceError>;
  return typeof e.details === 'string' && e.details !== '' ? e.details : err instanceof Error ? err.message : String(err);
}

/**
 * A replica's side of replication: keeps one stream open to the leader, from its own durable
 * position, appends what arrives durably and in order, and acks its durable position after each
 * batch (what sync writes wait for). Reconnects with backoff; a leader silent for
 * {@link LEADER_SILENCE_MS} is dropped and dialled again. When the leader answers that the logs
 * diverge, cuts its log back to the common prefix (the records removed are set aside, see
 * ConceptStore.truncateTo) and asks again.
 */
export class ReplicaFollower {
  private readonly abort = new AbortController();
  private client: StorageReplicationClient;
  private clientVersion: number;
  private call: ClientReadableStream<ReplicateResponse> | undefined;
  private running: Promise<void> | undefined;
  private ackTarget = 0;
  private ackSent = 0;
  private acking = false;
  /** The stream is open and has delivered a message. */
  connected = false;
  /** The leader's durable position, as last heard. */
  leaderPosition = 0;
  /** Reached the leader's position since the stream opened. */
  caughtUp = false;
  lastError = '';

  constructor(
    private readonly store: ConceptStore,
    /** HOST:PORT of the leader. */
    readonly leader: string,
    private readonly host: FollowerHost,
    private readonly token: string | undefined,
    private readonly dialer: NodeDialer = PLAINTEXT_DIALER,
  ) {
    this.client = new StorageReplicationClient(leader, dialer.credentials, dialer.options);
    this.clientVersion = dialer.version?.() ?? 0;
  }

  /**
   * The channel to the leader, dialled again once this node's certificate was renewed: the leader
   * refuses calls on a connection whose certificate has expired. A stream open on the old channel
   * runs on; new calls (acks, the next stream) take the new one.
   */
  private channel(): StorageReplicationClient {
    const version = this.dialer.version?.() ?? 0;
    if (version !== this.clientVersion) {
      const old = this.client;
      this.client = new StorageReplicationClient(this.leader, this.dialer.credentials, this.dialer.options);
      this.clientVersion = version;
      // Closing a channel lets the calls open on it finish.
      old.close();
    }
    return this.client;
  }

  /** Starts following; runs until {@link stop}. */
  start(): void {
    this.running ??= this.loop();
  }

  /** Stops following and closes the connection. Idempotent. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.call?.cancel();
    await this.running;
    this.client.close();
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.abort.signal.aborted) {
      try {
        failures = (await this.followOnce()) ? 0 : failures + 1;
      } catch (err) {
        failures++;
        if (!this.abort.signal.aborted) this.noteError(message(err));
      } finally {
        this.connected = false;
        this.caughtUp = false;
        this.call = undefined;
      }
      if (failures === 0) continue;
      try {
        await sleep(backoffDelay(failures - 1, { initialMs: 100, maxMs: 2000, jitter: 0.3 }), this.abort.signal);
      } catch {
        return;
      }
    }
  }

  private noteError(text: string): void {
    if (text !== this.lastError) this.host.log(`replication from ${this.leader}: ${text}`);
    this.lastError = text;
  }

  /** One stream. @returns whether it made progress (then the next one opens at once). */
  private async followOnce(): Promise<boolean> {
    await this.store.settled();
    const from = this.store.appendedPosition;
    this.ackSent = from;
    const call = this.channel().replicate(
      { replicaId: this.host.nodeId, copy: this.host.copy, term: this.host.term, fromPosition: from, lastLogTerm: this.store.terms.termAt(from) ?? 0, leader: this.leader },
      authMetadata(this.token),
    );
    this.call = call;
    // grpc-js emits the final status as 'error' even after the loop below has stopped listening.
    call.on('error', () => undefined);
    let silent = false;
    const onSilence = (): void => {
      silent = true;
      call.cancel();
    };
    let silence = setTimeout(onSilence, LEADER_SILENCE_MS);
    let progressed = false;
    try {
      for await (const msg of call as AsyncIterable<ReplicateResponse>) {
        clearTimeout(silence);
        silence = setTimeout(onSilence, LEADER_SILENCE_MS);
        if (msg.term < this.host.term) throw staleTerm(`stream from ${this.leader}`, msg.term, this.host.term);
        if (msg.term > this.host.term) await this.host.adoptTerm(msg.term);
        this.connected = true;
        this.lastError = '';
        this.leaderPosition = msg.leaderPosition;
        if (msg.truncation !== undefined) {
          await this.truncate(msg.truncation, from);
          return true;
        }
        if (msg.records !== undefined && msg.records.records.length > 0) {
          if (msg.records.records.length > MAX_BATCH_RECORDS) throw badField('records', `${msg.records.records.length} records in one message, more than ${MAX_BATCH_RECORDS}`);
          await this.store.appendReplicated(msg.records.records, msg.records.firstPosition, msg.term);
          progressed = true;
          this.ack();
        }
        if (this.store.position >= this.leaderPosition) this.caughtUp = true;
      }
      return progressed;
    } catch (err) {
      if (silent) throw new Error(`nothing from the leader for ${LEADER_SILENCE_MS} ms; dialling again`, { cause: err });
      throw err;
    } finally {
      clearTimeout(silence);
      call.cancel();
    }
  }

  /**
   * Cuts the log back to what it shares with the leader. The leader holds `end` records of terms up
   * to `term`; this log holds its own count of records up to `term`; records of one term come from
   * one leader, so the shorter of the two is common. When that would remove nothing (a log the
   * leader cannot place), the last run of terms goes: removing too much only costs a re-fetch.
   */
  private async truncate(t: LogTruncation, from: number): Promise<void> {
    let target = Math.min(t.endPosition, this.store.terms.endOf(t.term).end);
    if (target >= from) target = Math.max(0, this.store.terms.lastRunStart - 1);
    const { removed, asidePath } = await this.store.truncateTo(target);
    this.host.log(`replication: this log diverged from the leader's after position ${target}; ${removed} record(s) set aside in ${asidePath}`);
  }

  /** Sends the durable position, one ack in flight at a time, the latest one winning. */
  private ack(): void {
    this.ackTarget = this.store.position;
    if (this.acking) return;
    this.acking = true;
    void (async () => {
      try {
        while (this.ackSent < this.ackTarget && !this.abort.signal.aborted) {
          const position = this.ackTarget;
          const c = this.channel();
          await unary(c.ackReplication, c, { replicaId: this.host.nodeId, copy: this.host.copy, term: this.host.term, position }, this.token, ACK_TIMEOUT_MS);
          this.ackSent = Math.max(this.ackSent, position);
        }
      } catch (err) {
        // The stream fails too when the leader is gone; the next batch (or stream) acks again.
        if (!this.abort.signal.aborted) this.noteError(`ack: ${message(err)}`);
      } finally {
        this.acking = false;
      }
    })();
  }
}

/**
 * Tells a former leader that `term` has begun, best effort: a Replicate carrying the higher term
 * makes a leader of a lower one step down and follow `newLeader`. Used by a replica moved to a new
 * leader, so that a deposed leader the grid cannot reach (its agent lost, the node still up) stops
 * taking writes.
 */
export async function announceTerm(oldLeader: string, term: number, newLeader: string, nodeId: string, token: string | undefined, dialer: NodeDialer = PLAINTEXT_DIALER): Promise<void> {
  const client = new StorageReplicationClient(oldLeader, dialer.credentials, dialer.options);
  const call = client.replicate({ replicaId: nodeId, copy: '', term, fromPosition: 0, lastLogTerm: 0, leader: newLeader }, authMetadata(token), { deadline: Date.now() + 2000 });
  await new Promise<void>((resolve) => {
    call.once('data', () => resolve());
    call.on('error', () => resolve());
    call.once('end', () => resolve());
  });
  call.cancel();
  client.close();
}
