/**
 * Checks of single storage-server flag values. Every refusal is a ConfigError naming the flag, so
 * the server's one line on stderr says which flag to fix.
 */
import { ConfigError } from '../errors.js';
import { formatDuration, parseDuration } from '../../schema/units.js';

/** A decimal integer within `min`..`max`. */
export function intFlag(value: string, flag: string, min: number, max: number): number {
  if (!/^\d{1,16}$/.test(value.trim())) throw new ConfigError(flag, `expected an integer, got ${JSON.stringify(value.slice(0, 64))}`);
  const n = Number(value);
  if (n < min || n > max) throw new ConfigError(flag, `${n} is out of range ${min}-${max}`);
  return n;
}

/** A duration (`500ms`, `2s`) within `minMs`..`maxMs`, in milliseconds. */
export function durationFlag(value: string, flag: string, minMs: number, maxMs: number): number {
  let ms: number;
  try {
    ms = parseDuration(value, flag);
  } catch (err) {
    throw new ConfigError(flag, (err as Error).message.replace(new RegExp(`^${flag}:?\\s*`), ''));
  }
  if (ms > maxMs) throw new ConfigError(flag, `${value} is longer than ${formatDuration(maxMs)}`);
  if (ms < minMs) throw new ConfigError(flag, `${value} is shorter than ${formatDuration(minMs)}`);
  return ms;
}

/** Grid, cluster and node names: 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** An id-like name (see {@link ID}). */
export function idFlag(value: string, flag: string): string {
  if (!ID.test(value)) throw new ConfigError(flag, `must be 1-63 letters, digits, ".", "_" or "-", got ${JSON.stringify(value.slice(0, 64))}`);
  return value;
}

/** Longest HOST:PORT accepted (the spec's address limit). */
export const MAX_ADDRESS_CHARS = 261;

/** Why `value` is not a HOST:PORT a replica can dial (port 1-65535), or undefined when it is. */
export function addressProblem(value: string): string | undefined {
  if (value.length > MAX_ADDRESS_CHARS) return `longer than ${MAX_ADDRESS_CHARS} characters`;
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  if (m === null) return `expected HOST:PORT, got ${JSON.stringify(value.slice(0, 64))}`;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return `port ${port} is out of range 1-65535`;
  return undefined;
}
