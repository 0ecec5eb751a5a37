/**
 * Readable durations ("500ms", "15s", "1m30s") and sizes ("512Mi", "2Gi", "256M") to numbers and
 * back. The spec compiler and the CLI flags (`--heartbeat-interval 5s`) share these, so one
 * spelling is accepted everywhere.
 */
import { UnitError } from './errors.js';

const DURATION_UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const DURATION_PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/y;

/** Longest duration accepted: timers (setTimeout) misfire beyond a signed 32-bit millisecond count. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/**
 * Parses a duration into whole milliseconds (rounded). Parts may be chained: `1h30m`, `1m30s`.
 * @param field names the key or flag in the error, e.g. `monitoring.heartbeatInterval`.
 * @throws UnitError (code SPEC_UNIT) naming `field` when the text is not a duration or too long.
 */
export function parseDuration(text: string, field = 'duration'): number {
  const trimmed = typeof text === 'string' ? text.trim() : '';
  const bad = (): UnitError =>
    new UnitError(field, `must be a duration like 500ms, 15s, 2m or 1h, got ${JSON.stringify(text)}`);
  if (trimmed === '') throw bad();
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < trimmed.length) {
    const match = DURATION_PART.exec(trimmed);
    if (!match) throw bad();
    const unit = match[2] as keyof typeof DURATION_UNIT_MS;
    total += Number(match[1]) * DURATION_UNIT_MS[unit];
  }
  const ms = Math.round(total);
  if (ms > MAX_DURATION_MS) {
    throw new UnitError(field, `must be at most ${formatDuration(MAX_DURATION_MS)}, got ${JSON.stringify(text)}`);
  }
  return ms;
}

/** Formats milliseconds as the shortest chained duration: 90000 -> "1m30s", 500 -> "500ms", 0 -> "0s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`formatDuration: not a non-negative number: ${ms}`);
  let rest = Math.round(ms);
  if (rest === 0) return '0s';
  let out = '';
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1_000], ['ms', 1]] as const) {
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}

const MIB = 1024 * 1024;
/** Bytes per unit: Ki/Mi/Gi/Ti are binary, k/K/M/G/T decimal (as Kubernetes quantities). */
const SIZE_UNIT_BYTES = {
  Ki: 1024,
  Mi: MIB,
  Gi: 1024 * MIB,
  Ti: 1024 * 1024 * MIB,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
} as const;
const SIZE = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)$/;

/**
 * Parses a memory size into whole MiB, rounding up so a limit is never silently lowered
 * ("256M" = 244.14 MiB -> 245). A number is taken as MiB already and must be a positive integer.
 * A string needs a unit: a bare "512" is refused, since Kubernetes would read it as bytes.
 * @param field names the key or flag in the error, e.g. `clusters[0].memory`.
 * @throws UnitError (code SPEC_UNIT) naming `field` when the value is not a positive size.
 */
export function parseSize(text: string | number, field = 'size'): number {
  if (typeof text === 'number') {
    if (!Number.isSafeInteger(text) || text < 1) {
      throw new UnitError(field, `must be a positive integer of MiB or a size like 512Mi, got ${text}`);
    }
    return text;
  }
  const match = typeof text === 'string' ? SIZE.exec(text.trim()) : null;
  if (!match) {
    throw new UnitError(field, `must be a size like 512Mi, 2Gi or 256M, got ${JSON.stringify(text)}`);
  }
  const unit = match[2] as keyof typeof SIZE_UNIT_BYTES;
  const mib = Math.ceil((Number(match[1]) * SIZE_UNIT_BYTES[unit]) / MIB);
  if (mib < 1) throw new UnitError(field, `must be greater than 0, got ${JSON.stringify(text)}`);
  if (!Number.isSafeInteger(mib)) throw new UnitError(field, `is too large: ${JSON.stringify(text)}`);
  return mib;
}

/** Formats MiB with the largest binary unit that divides it: 2048 -> "2Gi", 384 -> "384Mi". */
export function formatSize(mib: number): string {
  if (!Number.isSafeInteger(mib) || mib < 0) throw new RangeError(`formatSize: not a non-negative integer: ${mib}`);
  if (mib > 0 && mib % (1024 * 1024) === 0) return `${mib / (1024 * 1024)}Ti`;
  if (mib > 0 && mib % 1024 === 0) return `${mib / 1024}Gi`;
  return `${mib}Mi`;
}
