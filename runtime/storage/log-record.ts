import { RuntimeError } from '../errors.js';

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

/**
 * One record of the store's log: a concept or an association as it now stands (last record wins),
 * stamped with the leadership term it was written in. `e` is left out for term 0, so a standalone
 * node's log is byte for byte what it was before terms existed, and such logs read as term 0.
 */
export type LogRecord = ({ t: 'c'; e?: number } & StoredConcept) | ({ t: 'a'; e?: number } & StoredAssociation);

/** The term a record was written in. */
export function recordTerm(rec: LogRecord): number {
  return rec.e ?? 0;
}

/** The record's log payload (UTF-8 JSON). */
export function encodeRecord(rec: LogRecord): Buffer {
  return Buffer.from(JSON.stringify(rec), 'utf8');
}

function bad(what: string, position: number): RuntimeError {
  return new RuntimeError('INVALID_ARGUMENT', `record at position ${position}: ${what}`, { field: 'records', position });
}

function isStringMap(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Parses and checks one payload. Records written by this server are trusted on replay, but records a
 * leader sends are input: a replica must not put into its log what it could not replay.
 * @throws RuntimeError INVALID_ARGUMENT naming the position when the payload is not a record.
 */
export function parseRecord(payload: Buffer, position: number): LogRecord {
  let v: unknown;
  try {
    v = JSON.parse(payload.toString('utf8'));
  } catch {
    throw bad('not JSON', position);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('not an object', position);
  const r = v as Record<string, unknown>;
  if (r['e'] !== undefined && !isCount(r['e'])) throw bad('term (e) is not a non-negative integer', position);
  if (r['t'] === 'c') {
    if (typeof r['id'] !== 'string' || r['id'] === '' || typeof r['content'] !== 'string') throw bad('concept without id or content', position);
    if (!isStringMap(r['attributes'])) throw bad('concept attributes are not a string map', position);
    if (!isCount(r['createdAtMs']) || !isCount(r['updatedAtMs'])) throw bad('concept timestamps are not integers', position);
    return v as LogRecord;
  }
  if (r['t'] === 'a') {
    if (typeof r['sourceId'] !== 'string' || r['sourceId'] === '' || typeof r['targetId'] !== 'string' || r['targetId'] === '') {
      throw bad('association without source or target', position);
    }
    const c = r['confidence'];
    if (typeof r['type'] !== 'string' || typeof c !== 'number' || !(c >= 0 && c <= 1)) throw bad('association type or confidence is invalid', position);
    return v as LogRecord;
  }
  throw bad('unknown record kind', position);
}
