import { createHash } from 'node:crypto';
import { RuntimeError } from '../errors.js';
import { RecordLog } from './record-log.js';

/** A stored concept (the wire's Concept, without generated-code types). */
export interface StoredConcept {
  readonly id: string;
  readonly content: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

/** A stored association; (sourceId, targetId, type) is its identity. */
export interface StoredAssociation {
  readonly sourceId: string;
  readonly targetId: string;
  readonly type: string;
  readonly confidence: number;
}

type LogRecord = ({ t: 'c' } & StoredConcept) | ({ t: 'a' } & StoredAssociation);

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
 * Concepts and associations in memory, made durable by a record log: every change is appended
 * (and fsynced) before the call returns, and the log is replayed on open (last record wins).
 */
export class ConceptStore {
  private readonly concepts = new Map<string, StoredConcept>();
  private readonly associations = new Map<string, StoredAssociation>();
  /** Association keys per concept id, in both directions, in insertion order. */
  private readonly edges = new Map<string, Set<string>>();
  private bytes = 0;

  private constructor(
    private readonly log: RecordLog,
    private readonly memoryLimitBytes: number,
  ) {}

  /** Opens the store under `dir`, replaying its log. `memoryMb` 0 = unlimited. */
  static async open(dir: string, memoryMb = 0): Promise<{ store: ConceptStore; truncatedBytes: number }> {
    const { log, replay } = await RecordLog.open(dir);
    const store = new ConceptStore(log, memoryMb * 1024 * 1024);
    for (const payload of replay.payloads) {
      store.bytes += payload.length;
      store.apply(JSON.parse(payload.toString('utf8')) as LogRecord);
    }
    return { store, truncatedBytes: replay.truncatedBytes };
  }

  get conceptCount(): number {
    return this.concepts.size;
  }

  get associationCount(): number {
    return this.associations.size;
  }

  private apply(rec: LogRecord): void {
    if (rec.t === 'c') {
      const { t: _t, ...concept } = rec;
      this.concepts.set(concept.id, concept);
      return;
    }
    const { t: _t, ...assoc } = rec;
    const key = assocKey(assoc);
    this.associations.set(key, assoc);
    for (const id of [assoc.sourceId, assoc.targetId]) {
      let set = this.edges.get(id);
      if (set === undefined) this.edges.set(id, (set = new Set()));
      set.add(key);
    }
  }

  private async persist(rec: LogRecord): Promise<void> {
    const payload = Buffer.from(JSON.stringify(rec), 'utf8');
    if (this.memoryLimitBytes > 0 && this.bytes + payload.length > this.memoryLimitBytes) {
      throw new RuntimeError('CAPACITY_EXCEEDED', `storage memory limit of ${this.memoryLimitBytes / 1024 / 1024} MB reached`);
    }
    // Apply only once durable, so a reader never sees data a crash could lose.
    await this.log.append(payload);
    this.bytes += payload.length;
    this.apply(rec);
  }

  /** Creates or updates a concept; `created` is false when the id already existed. */
  async learnConcept(id: string, content: string, attributes: Record<string, string>): Promise<{ id: string; created: boolean }> {
    if (id === '' && content === '') throw new RuntimeError('INVALID_ARGUMENT', 'content: required when id is empty', { field: 'content' });
    const conceptId = id === '' ? conceptIdOf(content) : id;
    const existing = this.concepts.get(conceptId);
    if (existing !== undefined && existing.content === content && sameAttributes(existing.attributes, attributes)) {
      return { id: conceptId, created: false };
    }
    const now = Date.now();
    await this.persist({
      t: 'c',
      id: conceptId,
      content,
      attributes: { ...attributes },
      createdAtMs: existing?.createdAtMs ?? now,
      updatedAtMs: now,
    });
    return { id: conceptId, created: existing === undefined };
  }

  /** Creates or updates an association; `created` is false when it already existed. */
  async learnAssociation(a: StoredAssociation): Promise<{ created: boolean }> {
    if (a.sourceId === '') throw new RuntimeError('INVALID_ARGUMENT', 'association.source_id: required', { field: 'association.source_id' });
    if (a.targetId === '') throw new RuntimeError('INVALID_ARGUMENT', 'association.target_id: required', { field: 'association.target_id' });
    if (!Number.isFinite(a.confidence) || a.confidence < 0 || a.confidence > 1) {
      throw new RuntimeError('INVALID_ARGUMENT', `association.confidence: expected 0..1, got ${a.confidence}`, { field: 'association.confidence' });
    }
    const existing = this.associations.get(assocKey(a));
    if (existing !== undefined && existing.confidence === a.confidence) return { created: false };
    await this.persist({ t: 'a', sourceId: a.sourceId, targetId: a.targetId, type: a.type, confidence: a.confidence });
    return { created: existing === undefined };
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
