/**
 * Defensive readers for data of unknown shape: the semantic checks run on specs that may have
 * failed the schema, so every read is checked instead of cast.
 */

/** A plain JSON object. */
export type Json = Record<string, unknown>;

/** The value as an object, or undefined when it is not a plain object. */
export function obj(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

/** The value as an array, or an empty array. */
export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The value as a string, or undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The value as a safe integer, or undefined. */
export function int(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}
