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

/**
 * The one value given for something that several flags (or a positional argument) can name, e.g.
 * `stop NODE`, `stop --node NODE` (the design documents' form) and `stop --node-id NODE`.
 * @throws ConfigError naming both flags when they give different values.
 * @returns undefined when none was given.
 */
export function oneOf(sources: ReadonlyArray<readonly [flag: string, value: string | undefined]>): string | undefined {
  const given = sources.filter((s): s is readonly [string, string] => s[1] !== undefined && s[1] !== '');
  const first = given[0];
  const other = given.find(([, v]) => v !== first?.[1]);
  if (first !== undefined && other !== undefined) {
    throw new ConfigError(other[0], `"${other[1]}" contradicts ${first[0]} "${first[1]}"; give one`);
  }
  return first?.[1];
}
