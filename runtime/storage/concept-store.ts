import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { RuntimeError } from '../errors.js';
import { encodeRecord, parseRecord, recordTerm, type LogRecord, type StoredAssociation, type StoredConcept } from './log-record.js';
import { RecordLog } from './record-log.js';
import { TermHistory } from './term-history.js';

export type { StoredAssociation, StoredConcept } from './log-record.js';

/** A record appended but not applied yet: what a following write on the same key must see. */
interface Unapplied {
  readonly position: number;
  readonly rec: LogRecord;
  readonly durable: Promise<void>;
}

/** What a write did: `position` is the log record it waits on (0 when it changed nothing). */
export interface WriteResult {
  readonly created: boolean;
  readonly position: number;
}

function assocKey(a: { sourceId: string; targetId: string; type: string }): string {
  return JSON.stringify([a.sourceId, a.targetId, a.type]);
}

function sameAttributes(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** Id derived from content when the caller gives none: stable across servers and restarts. */
export function conceptIdOf(content: string): string {
  return createHash('sha256').update(content).digest('hex').slice(0, 32);
}

/**
 * Concepts and associations in memory, made durable by a record log. A write is appended (and
 * fsynced) before its call returns; reads see a record once it is applied, which is when it is
 * durable, or on a `sync` leader when its quorum has it too ({@link holdReads}). The log is
 * replayed on open (last record wins), and can be cut back to a prefix when a replica's log
 * diverges from its leader's.
 */
export class ConceptStore {
  private readonly concepts = new Map<string, StoredConcept>();
  private readonly associations = new Map<string, StoredAssociation>();
  /** Association keys per concept id, in both directions, in insertion order. */
  private readonly edges = new Map<string, Set<string>>();
  private bytes = 0;
  private readonly history = new TermHistory();
  /** Records appended and not applied yet, in position order, from `queueHead` on. */
  private queue: Unapplied[] = [];
  private queueHead = 0;
  private readonly unappliedConcepts = new Map<string, Unapplied>();
  private readonly unappliedAssociations = new Map<string, Unapplied>();
  private applied = 0;
  /** When set, reads see records up to this position only (a sync leader's commit). */
  private gate: number | undefined;
  private readonly durableListeners = new Set<(position: number) => void>();

  private constructor(
    private readonly log: RecordLog,
    private readonly dir: string,
    private readonly memoryLimitBytes: number,
  ) {
    log.onDurable = (position) => {
      this.applyUpTo(this.readLimit());
      for (const l of this.durableListeners) l(position);
    };
  }

  /** Opens the store under `dir`, replaying its log. `memoryMb` 0 = unlimited. */
  static async open(dir: string, memoryMb = 0): Promise<{ store: ConceptStore; truncatedBytes: number }> {
    const { log, replay } = await RecordLog.open(dir);
    const store = new ConceptStore(log, dir, memoryMb * 1024 * 1024);
    store.replay(replay.payloads);
    return { store, truncatedBytes: replay.truncatedBytes };
  }

  private replay(payloads: Buffer[]): void {
    for (const payload of payloads) {
      const rec = JSON.parse(payload.toString('utf8')) as LogRecord;
      this.bytes += payload.length;
      // A log this server wrote never goes back in terms; were one edited to, it still opens.
      this.history.append(Math.max(recordTerm(rec), this.history.lastTerm));
      this.applyRecord(rec);
    }
    this.applied = payloads.length;
  }

  get conceptCount(): number {
    return this.concepts.size;
  }

  get associationCount(): number {
    return this.associations.size;
  }

  /** Records durable in the log. */
  get position(): number {
    return this.log.durable;
  }

  /** Records appended, durable or in flight. */
  get appendedPosition(): number {
    return this.log.appended;
  }

  /** Records reads see. */
  get appliedPosition(): number {
    return this.applied;
  }

  /** Term of the last record appended (0 for an empty log). */
  get lastLogTerm(): number {
    return this.history.lastTerm;
  }

  /** The terms of the log (read-only use: the replication handshake). */
  get terms(): Pick<TermHistory, 'termAt' | 'endOf' | 'lastRunStart' | 'lastTerm' | 'length'> {
    return this.history;
  }

  /** Calls `listener` with the durable position after every batch; returns its remover. */
  onDurable(listener: (position: number) => void): () => void {
    this.durableListeners.add(listener);
    return () => this.durableListeners.delete(listener);
  }

  private readLimit(): number {
    const durable = this.log.durable;
    return this.gate === undefined ? durable : Math.min(durable, this.gate);
  }

  private applyRecord(rec: LogRecord): void {
    if (rec.t === 'c') {
      const { t: _t, e: _e, ...concept } = rec;
      this.concepts.set(concept.id, concept);
      return;
    }
    const { t: _t, e: _e, ...assoc } = rec;
    const key = assocKey(assoc);
    this.associations.set(key, assoc);
    for (const id of [assoc.sourceId, assoc.targetId]) {
      let set = this.edges.get(id);
      if (set === undefined) this.edges.set(id, (set = new Set()));
      set.add(key);
    }
  }

  private applyUpTo(limit: number): void {
    while (this.queueHead < this.queue.length && this.queue[this.queueHead]!.position <= limit) {
      const u = this.queue[this.queueHead++]!;
      this.applyRecord(u.rec);
      const map = u.rec.t === 'c' ? this.unappliedConcepts : this.unappliedAssociations;
      const key = u.rec.t === 'c' ? u.rec.id : assocKey(u.rec);
      if (map.get(key) === u) map.delete(key);
      this.applied = u.position;
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  /** Reads see only records up to the position given to {@link commit} from now on (a sync leader). */
  holdReads(): void {
    this.gate ??= this.log.appended;
  }

  /** A sync leader's quorum holds every record up to `position`: reads may see them. */
  commit(position: number): void {
    if (this.gate === undefined || position <= this.gate) return;
    this.gate = position;
    this.applyUpTo(this.readLimit());
  }

  /** Reads see every durable record again (the node is no longer a sync leader). */
  releaseReads(): void {
    this.gate = undefined;
    this.applyUpTo(this.readLimit());
  }

  private checkMemory(more: number): void {
    if (this.memoryLimitBytes > 0 && this.bytes + more > this.memoryLimitBytes) {
      throw new RuntimeError('CAPACITY_EXCEEDED', `storage memory limit of ${this.memoryLimitBytes / 1024 / 1024} MB reached`);
    }
  }

  private append(rec: LogRecord, payload: Buffer): Unapplied {
    this.checkMemory(payload.length);
    if (recordTerm(rec) < this.history.lastTerm) {
      throw new RuntimeError('STALE_TERM', `a record of term ${recordTerm(rec)} cannot follow one of term ${this.history.lastTerm}`);
    }
    const { position, durable } = this.log.append(payload);
    if (position === 0) throw new RuntimeError('INTERNAL', 'store log is closed or failed');
    this.bytes += payload.length;
    this.history.append(recordTerm(rec));
    const u: Unapplied = { position, rec, durable };
    this.queue.push(u);
    if (rec.t === 'c') this.unappliedConcepts.set(rec.id, u);
    else this.unappliedAssociations.set(assocKey(rec), u);
    return u;
  }

  /**
   * Creates or updates a concept in `term`; `created` is false when the id already existed. An
   * identical write changes nothing; while the record it matches is still in flight, it waits for
   * that record and reports its position.
   */
  async learnConcept(id: string, content: string, attributes: Record<string, string>, term = 0): Promise<WriteResult & { id: string }> {
    if (id === '' && content === '') throw new RuntimeError('INVALID_ARGUMENT', 'content: required when id is empty', { field: 'content' });
    const conceptId = id === '' ? conceptIdOf(content) : id;
    const pending = this.unappliedConcepts.get(conceptId);
    const existing = pending?.rec.t === 'c' ? pending.rec : this.concepts.get(conceptId);
    if (existing !== undefined && existing.content === content && sameAttributes(existing.attributes, attributes)) {
      if (pending !== undefined) await pending.durable;
      return { id: conceptId, created: false, position: pending?.position ?? 0 };
    }
    const now = Date.now();
    const rec: LogRecord = { t: 'c', ...(term > 0 ? { e: term } : {}), id: conceptId, content, attributes: { ...attributes }, createdAtMs: existing?.createdAtMs ?? now, updatedAtMs: now };
    const u = this.append(rec, encodeRecord(rec));
    await u.durable;
    return { id: conceptId, created: existing === undefined, position: u.position };
  }

  /** Creates or updates an association in `term`; `created` is false when it already existed. */
  async learnAssociation(a: StoredAssociation, term = 0): Promise<WriteResult> {
    if (a.sourceId === '') throw new RuntimeError('INVALID_ARGUMENT', 'association.source_id: required', { field: 'association.source_id' });
    if (a.targetId === '') throw new RuntimeError('INVALID_ARGUMENT', 'association.target_id: required', { field: 'association.target_id' });
    if (!Number.isFinite(a.confidence) || a.confidence < 0 || a.confidence > 1) {
      throw new RuntimeError('INVALID_ARGUMENT', `association.confidence: expected 0..1, got ${a.confidence}`, { field: 'association.confidence' });
    }
    const key = assocKey(a);
    const pending = this.unappliedAssociations.get(key);
    const existing = pending?.rec.t === 'a' ? pending.rec : this.associations.get(key);
    if (existing !== undefined && existing.confidence === a.confidence) {
      if (pending !== undefined) await pending.durable;
      return { created: false, position: pending?.position ?? 0 };
    }
    const rec: LogRecord = { t: 'a', ...(term > 0 ? { e: term } : {}), sourceId: a.sourceId, targetId: a.targetId, type: a.type, confidence: a.confidence };
    const u = this.append(rec, encodeRecord(rec));
    await u.durable;
    return { created: existing === undefined, position: u.position };
  }

  /**
   * Appends records a leader of `term` sent, starting at `firstPosition` (the next position here),
   * and resolves with the durable position once they are on disk and applied.
   * @throws RuntimeError INVALID_ARGUMENT for a gap, a record that is not one, or terms out of order.
   */
  async appendReplicated(payloads: readonly Buffer[], firstPosition: number, term: number): Promise<number> {
    if (firstPosition !== this.log.appended + 1) {
      throw new RuntimeError('INVALID_ARGUMENT', `records start at position ${firstPosition}, this log continues at ${this.log.appended + 1}`, { field: 'first_position' });
    }
    let last = this.history.lastTerm;
    const recs = payloads.map((p, i) => {
      const rec = parseRecord(p, firstPosition + i);
      const t = recordTerm(rec);
      if (t < last || t > term) {
        throw new RuntimeError('INVALID_ARGUMENT', `record at position ${firstPosition + i}: term ${t} outside ${last}-${term}`, { field: 'records' });
      }
      last = t;
      return rec;
    });
    this.checkMemory(payloads.reduce((n, p) => n + p.length, 0));
    const appended = recs.map((rec, i) => this.append(rec, payloads[i]!));
    await Promise.all(appended.map((u) => u.durable));
    return this.log.durable;
  }

  /** Resolves once no log write is in flight (every appended record is durable, or failed). */
  settled(): Promise<void> {
    return this.log.idle();
  }

  /** Durable records from `from` on, as stored (see RecordLog.read). */
  readRecords(from: number, maxBytes: number, maxCount: number): Promise<Buffer[]> {
    return this.log.read(from, maxBytes, maxCount);
  }

  /**
   * Cuts the log back to `position` records and rebuilds the state from what is left. The records
   * removed are kept in `store.log.diverged-<ms>-from-<position+1>` beside the log. The caller
   * (a replica's follower) makes sure no write starts meanwhile.
   * @returns how many records were removed and the file holding them (empty when none).
   */
  async truncateTo(position: number): Promise<{ removed: number; asidePath: string }> {
    await this.log.idle();
    if (position >= this.log.appended) return { removed: 0, asidePath: '' };
    const asidePath = join(this.dir, `store.log.diverged-${Date.now()}-from-${position + 1}`);
    const removed = await this.log.truncate(position, asidePath);
    this.concepts.clear();
    this.associations.clear();
    this.edges.clear();
    this.unappliedConcepts.clear();
    this.unappliedAssociations.clear();
    this.queue = [];
    this.queueHead = 0;
    this.bytes = 0;
    this.history.truncate(0);
    this.replay(position > 0 ? await this.log.read(1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER) : []);
    return { removed, asidePath };
  }

  /** The concept with this id, if any. */
  getConcept(id: string): StoredConcept | undefined {
    return this.concepts.get(id);
  }

  /**
   * Associations touching `id` in either direction (outgoing and incoming), oldest first, filtered
   * by `type` when non-empty and capped at `limit` when non-zero.
   */
  neighbors(id: string, type = '', limit = 0): StoredAssociation[] {
    const out: StoredAssociation[] = [];
    for (const key of this.edges.get(id) ?? []) {
      const a = this.associations.get(key)!;
      if (type !== '' && a.type !== type) continue;
      out.push(a);
      if (limit > 0 && out.length >= limit) break;
    }
    return out;
  }

  /** Flushes pending writes and closes the log. */
  close(): Promise<void> {
    return this.log.close();
  }
}
