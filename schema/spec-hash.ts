/**
 * A canonical JSON form and a hash of it, so "has the spec changed?" does not depend on key order
 * or formatting (the master skips a new generation when the hash is unchanged).
 */
import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level and `undefined` properties dropped. Arrays keep
 * their order: the order of agents and clusters is meaningful to nobody, but pins are lists too,
 * and reordering a list is a change the user made.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : sortKeys(item)));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) out[key] = sortKeys(item);
    }
    return out;
  }
  return value;
}

/** SHA-256 (hex) of `canonicalJson(value)`; meant for a `CompiledGridSpec`. */
export function specHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
