import { ConfigError } from '../../errors.js';

/**
 * Parses an integer flag value, naming the flag when it is not one.
 * @returns `fallback` when the flag was not given.
 */
export function intFlag(value: string | undefined, flag: string, fallback: number, min = 0, max = 2 ** 32 - 1): number {
  if (value === undefined) return fallback;
  const trimmed = value.trim();
  if (!/^\d+$/.test(trimmed)) throw new ConfigError(flag, `must be a whole number, got "${value}"`);
  const n = Number(trimmed);
  if (n < min || n > max) throw new ConfigError(flag, `must be between ${min} and ${max}, got ${n}`);
  return n;
}
