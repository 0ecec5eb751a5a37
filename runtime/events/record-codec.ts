import { crc32 } from 'node:zlib';
import type { EventType, GridEvent } from './event-types.js';

/**
 * On-disk record, little endian:
 *
 *   u32 bodyLength | u32 crc32(body) | body = f64 index | f64 timestampUs | JSON
 *
 * Index and timestamp sit in fixed binary fields so recovery and the in-memory index never parse
 * JSON; the CRC covers them too, so a torn or flipped record is never mistaken for a good one.
 * f64 holds integers exactly up to 2^53, far beyond any index or microsecond timestamp we produce.
 */
export const HEADER_BYTES = 8;
const FIXED_BODY_BYTES = 16;
/** Refuse bodies larger than this on read: a garbage length must not make us allocate gigabytes. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Compact JSON field names keep records small: most bytes per event are these keys. */
interface StoredBody {
  t: EventType;
  s: string;
  a?: string;
  n?: string;
  c?: string;
  p: unknown;
  k?: number;
  l?: number;
}

function bodyJson(e: GridEvent): string {
  const b: StoredBody = { t: e.type, s: e.severity, p: e.payload };
  if (e.agentId) b.a = e.agentId;
  if (e.nodeId) b.n = e.nodeId;
  if (e.cluster) b.c = e.cluster;
  if (e.count !== 1) b.k = e.count;
  if (e.lastSeenUs !== e.timestampUs) b.l = e.lastSeenUs;
  return JSON.stringify(b);
}

/** Encodes a batch into one buffer (one write) and returns each record's byte length. */
export function encodeBatch(events: readonly GridEvent[]): { buf: Buffer; sizes: number[] } {
  const jsons = events.map(bodyJson);
  const sizes = jsons.map((j) => HEADER_BYTES + FIXED_BODY_BYTES + Buffer.byteLength(j));
  const buf = Buffer.allocUnsafe(sizes.reduce((a, b) => a + b, 0));
  let off = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i] as GridEvent;
    const size = sizes[i] as number;
    buf.writeUInt32LE(size - HEADER_BYTES, off);
    buf.writeDoubleLE(e.index, off + 8);
    buf.writeDoubleLE(e.timestampUs, off + 16);
    buf.write(jsons[i] as string, off + 24, 'utf8');
    buf.writeUInt32LE(crc32(buf.subarray(off + 8, off + size)), off + 4);
    off += size;
  }
  return { buf, sizes };
}

/** The fixed part of a record found by `scanRecord`. */
export interface ScannedRecord {
  readonly index: number;
  readonly timestampUs: number;
  /** Total bytes including the header. */
  readonly size: number;
}

/**
 * Checks the record at `off` without parsing its JSON. Returns null when the bytes there are not a
 * complete, CRC-valid record (torn write, flipped bit, zero fill from a crashed allocation).
 */
export function scanRecord(buf: Buffer, off: number): ScannedRecord | null {
  if (off + HEADER_BYTES + FIXED_BODY_BYTES > buf.length) return null;
  const len = buf.readUInt32LE(off);
  if (len < FIXED_BODY_BYTES || len > MAX_BODY_BYTES || off + HEADER_BYTES + len > buf.length) return null;
  const body = buf.subarray(off + HEADER_BYTES, off + HEADER_BYTES + len);
  if (crc32(body) !== buf.readUInt32LE(off + 4)) return null;
  return { index: body.readDoubleLE(0), timestampUs: body.readDoubleLE(8), size: HEADER_BYTES + len };
}

/** Decodes a record already known to be valid (found by `scanRecord` or re-checked by the caller). */
export function decodeRecord(buf: Buffer, off: number, size: number): GridEvent {
  const index = buf.readDoubleLE(off + 8);
  const timestampUs = buf.readDoubleLE(off + 16);
  const b = JSON.parse(buf.toString('utf8', off + 24, off + size)) as StoredBody;
  return {
    index,
    timestampUs,
    type: b.t,
    severity: b.s,
    agentId: b.a ?? '',
    nodeId: b.n ?? '',
    cluster: b.c ?? '',
    payload: b.p,
    count: b.k ?? 1,
    lastSeenUs: b.l ?? timestampUs,
  } as GridEvent;
}
