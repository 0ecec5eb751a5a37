/**
 * JSON Schema validation of a spec (ajv, every error at once) and the translation of ajv's errors
 * into diagnostics with readable messages and stable codes.
 */
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import type { SpecErrorCode } from './errors.js';
import { validate as generatedAll } from './grid-validate-all.generated.js';
import { validate as generatedFirst } from './grid-validate-first.generated.js';
import { SPEC_LIMITS } from './limits.js';
import { toPointer } from './source-map.js';

/** A schema problem before it is given a place in the source. */
export interface RawDiagnostic {
  readonly code: SpecErrorCode;
  readonly message: string;
  readonly pointer: string;
  /** Point at the key of the entry rather than its value (unknown or misspelled keys). */
  readonly atKey?: boolean;
  readonly severity?: 'error' | 'warning';
}

/**
 * ajv's validators for grid.schema.json, every error or the first only, as ajv compiled them at
 * build time (schema/generate-schema-module.mjs, with the options written there: allErrors or not,
 * strict, allowUnionTypes, useDefaults, verbose). Compiling at run time cost every process that
 * parses a spec ~75 ms; validating takes microseconds.
 */
const validateAll = generatedAll as unknown as ValidateFunction;
const validateFirst = generatedFirst as unknown as ValidateFunction;

/**
 * Validates `data` against the grid schema. Returns the data with every schema default filled in
 * (a deep copy: the input is not touched) and one diagnostic per violation, or, with
 * `firstProblemOnly` (a spec past `SPEC_LIMITS.maxFullCheckBytes`), only the first one.
 */
export function checkSchema(data: unknown, firstProblemOnly = false): { defaulted: unknown; diagnostics: RawDiagnostic[] } {
  let defaulted: unknown;
  try {
    defaulted = data === undefined ? undefined : structuredClone(data);
  } catch (error) {
    // Functions, symbols, live handles (a Pulumi Output, say) cannot be a spec.
    const reason = error instanceof Error ? error.message : String(error);
    return { defaulted: undefined, diagnostics: [{ code: 'SPEC_SCHEMA', message: `must be plain data (JSON values only): ${reason}`, pointer: '' }] };
  }
  const validate = firstProblemOnly ? validateFirst : validateAll;
  if (validate(defaulted)) return { defaulted, diagnostics: [] };
  if (firstProblemOnly) {
    const first = (validate.errors ?? []).map((e) => toDiagnostic(e, true)).find((d) => d !== undefined);
    const note = `(the spec is over ${SPEC_LIMITS.maxFullCheckBytes / 1024} KiB, so schema checking stopped at its first problem; fix it and check again)`;
    return { defaulted, diagnostics: [first ? { ...first, message: `${first.message} ${note}` } : { code: 'SPEC_SCHEMA', message: `does not match the schema ${note}`, pointer: '' }] };
  }
  const diagnostics: RawDiagnostic[] = [];
  const said = new Set<string>();
  for (const error of validate.errors ?? []) {
    // Only the first ones are listed: the rest are counted, so spare them the suggestions.
    const diagnostic = toDiagnostic(error, diagnostics.length <= SPEC_LIMITS.maxDiagnostics);
    // A value failing two rules of one kind (a DNS label too long and not matching its pattern)
    // reads as the same message twice at the same place: said once.
    if (diagnostic === undefined) continue;
    const key = `${diagnostic.pointer}\n${diagnostic.message}`;
    if (said.has(key)) continue;
    said.add(key);
    diagnostics.push(diagnostic);
  }
  return { defaulted, diagnostics };
}

/** The `$defs` entry an error came from, when the failing value is one of the shared value kinds. */
function definitionOf(error: ErrorObject): string | undefined {
  return /^#\/\$defs\/([^/]+)\//.exec(error.schemaPath)?.[1];
}

const KIND_MESSAGES: Record<string, { code: SpecErrorCode; expected: string }> = {
  duration: { code: 'SPEC_UNIT', expected: 'a duration like 500ms, 15s, 2m or 1h' },
  size: { code: 'SPEC_UNIT', expected: 'a size like 512Mi, 2Gi or 256M, or an integer of MiB' },
  address: { code: 'SPEC_ADDRESS', expected: 'an address host:port, e.g. 127.0.0.1:7000' },
  dnsLabel: {
    code: 'SPEC_SCHEMA',
    expected: "a DNS label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)",
  },
  port: { code: 'SPEC_PORT_RANGE', expected: 'a port from 1 to 65535' },
};

function toDiagnostic(error: ErrorObject, detailed: boolean): RawDiagnostic | undefined {
  const at = error.instancePath;
  const got = describe(error.data);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const allowed = Object.keys((error.parentSchema?.properties as object | undefined) ?? {});
      return {
        code: 'SPEC_SCHEMA',
        message: `unknown property ${describe(name)}${detailed && name.length <= 64 ? suggest(name, allowed) : ''}`,
        pointer: at + toPointer([name]),
        atKey: true,
      };
    }
    case 'required': {
      const name = String(params.missingProperty);
      return { code: 'SPEC_SCHEMA', message: `missing required property "${name}"`, pointer: at + toPointer([name]) };
    }
    case 'propertyNames':
      // Reported through the inner error, which names the offending key.
      return undefined;
    case 'uniqueItems': {
      const later = Math.max(Number(params.i), Number(params.j));
      const value = Array.isArray(error.data) ? describe(error.data[later]) : 'a value';
      return { code: 'SPEC_DUPLICATE_ID', message: `${value} is listed twice`, pointer: at + toPointer([later]) };
    }
  }
  if (typeof error.propertyName === 'string') {
    return {
      code: 'SPEC_SCHEMA',
      message: `invalid label key ${describe(error.propertyName)}: must be letters, digits, '-', '_' or '.', optionally prefixed by a DNS name and '/'`,
      pointer: at + toPointer([error.propertyName]),
      atKey: true,
    };
  }
  const kind = definitionOf(error);
  const known = kind === undefined ? undefined : KIND_MESSAGES[kind];
  if (known) return { code: known.code, message: `must be ${known.expected}, got ${got}`, pointer: at };
  switch (error.keyword) {
    case 'type': {
      const hint = typeof error.data === 'number' || typeof error.data === 'boolean' ? ` (quote it: "${String(error.data)}")` : '';
      const wanted = [params.type].flat().map(String);
      return {
        code: 'SPEC_SCHEMA',
        message: `must be ${wanted.map(withArticle).join(' or ')}, got ${got}${wanted.includes('string') ? hint : ''}`,
        pointer: at,
      };
    }
    case 'enum':
      return {
        code: 'SPEC_SCHEMA',
        message: `must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}; got ${got}`,
        pointer: at,
      };
    case 'pattern':
      if (kind === 'labels') {
        return {
          code: 'SPEC_SCHEMA',
          message: `invalid label value ${got}: must be letters, digits, '-', '_' or '.', starting and ending with a letter or digit`,
          pointer: at,
        };
      }
      return { code: 'SPEC_SCHEMA', message: `invalid value ${got}`, pointer: at };
    case 'minimum':
      return { code: 'SPEC_SCHEMA', message: `must be ${String(params.comparison)} ${String(params.limit)}, got ${got}`, pointer: at };
    case 'maximum':
      return { code: 'SPEC_LIMIT', message: `must be ${String(params.comparison)} ${String(params.limit)}, got ${got}`, pointer: at };
    case 'maxItems':
      return { code: 'SPEC_LIMIT', message: `must have at most ${String(params.limit)} items, got ${Array.isArray(error.data) ? error.data.length : got}`, pointer: at };
    case 'maxProperties':
      return { code: 'SPEC_LIMIT', message: `must have at most ${String(params.limit)} entries, got ${typeof error.data === 'object' && error.data !== null ? Object.keys(error.data).length : got}`, pointer: at };
    case 'minItems':
      return { code: 'SPEC_SCHEMA', message: `must have at least ${String(params.limit)} item(s)`, pointer: at };
    case 'minLength':
      return { code: 'SPEC_SCHEMA', message: 'must not be empty', pointer: at };
    case 'maxLength':
      return { code: 'SPEC_LIMIT', message: `must be at most ${String(params.limit)} characters, got ${got}`, pointer: at };
    default:
      return { code: 'SPEC_SCHEMA', message: error.message ?? `fails ${error.keyword}`, pointer: at };
  }
}

function withArticle(type: string): string {
  const name = type === 'object' ? 'mapping' : type === 'array' ? 'list' : type;
  return /^[aeiou]/.test(name) ? `an ${name}` : `a ${name}`;
}

/** A value as the user would recognise it in a message, shortened. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** ` (did you mean "x"?)` for a near miss, else the list of allowed keys. */
function suggest(name: string, allowed: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const a = candidate.toLowerCase();
    const b = name.toLowerCase();
    // A prefix ("heartbeat" for "heartbeatInterval") is as good a hint as a typo.
    const distance = a === b ? 0 : b.length >= 3 && (a.startsWith(b) || b.startsWith(a)) ? 1 : editDistance(b, a);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 4))) return ` (did you mean "${best}"?)`;
  return allowed.length > 0 ? ` (expected one of: ${allowed.join(', ')})` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
