/**
 * Spec JSON, as ApplySpec carries it, to a compiled spec. Pure and synchronous: the master runs it
 * in its spec worker (spec-worker.ts), off the event loop; loading a stored spec at start-up runs
 * it directly, before the master serves.
 */
import { formatDiagnostic, parseGridSpec, parseGridSpecJson, type CompiledGridSpec, type Diagnostic, type GridSpecInput } from '../../../schema/index.js';
import { GridError, RuntimeError } from '../../errors.js';

/** Diagnostics sent back in one ApplySpec error; the count of the rest follows them. */
export const MAX_WIRE_DIAGNOSTICS = 10;

/** Longest line of one diagnostic in an ApplySpec error (a long key or value is cut). */
const MAX_DIAGNOSTIC_CHARS = 240;

/** ApplySpec's spec_json, parsed once: the spec as written (its canonical form is what is stored) and compiled. */
export interface ParsedSpec {
  readonly spec: GridSpecInput;
  readonly compiled: CompiledGridSpec;
}

/**
 * Spec JSON (as ApplySpec carries it) to the spec as written and its compiled form, with one
 * JSON.parse on the way of a valid spec.
 * @throws GridError SPEC_INVALID (INVALID_ARGUMENT) naming `spec_json`: empty, not JSON, or
 * invalid, with the first {@link MAX_WIRE_DIAGNOSTICS}
 * problems and the count of the rest (a status must stay small whatever the spec).
 */
export function parseSpecJson(specJson: string): ParsedSpec {
  if (specJson.trim() === '') throw new RuntimeError('SPEC_INVALID', 'spec_json: is empty', { field: 'spec_json' });
  let value: unknown;
  try {
    value = JSON.parse(specJson);
  } catch (err) {
    // Text past a spec limit (1 KB of '[' nests too deep) is refused for that, placed at
    // line:col, whatever else is wrong with it; anything else that is not JSON says so.
    const checked = parseGridSpec(specJson, 'spec_json');
    const limits = checked.ok ? [] : checked.diagnostics.filter((d) => d.severity === 'error' && d.code === 'SPEC_LIMIT');
    if (limits.length > 0) throw invalid(limits);
    const why = oneLine((err as Error).message);
    throw new RuntimeError('SPEC_INVALID', `spec_json: is not JSON (${why}); ApplySpec takes the spec as JSON (\`sutra-grid apply FILE\` converts YAML)`, { field: 'spec_json' });
  }
  // JSON that is not an object is no spec: the general parser says so as it always has.
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  const result = isObject ? parseGridSpecJson(specJson, value as object, 'spec_json') : parseGridSpec(specJson, 'spec_json');
  if (!result.ok) throw invalid(result.diagnostics.filter((d) => d.severity === 'error'));
  return { spec: result.spec, compiled: result.compiled };
}

/** The compiled spec of {@link parseSpecJson} (a stored spec, loaded at start-up). */
export function compileSpecJson(specJson: string): CompiledGridSpec {
  return parseSpecJson(specJson).compiled;
}

/**
 * SPEC_INVALID with the first {@link MAX_WIRE_DIAGNOSTICS} of `errors`, the count of the rest, and
 * the parser's own tally of problems past the ones it listed (SPEC_MORE_PROBLEMS), when it made one.
 */
function invalid(errors: readonly Diagnostic[]): GridError {
  const line = (d: Diagnostic): string => oneLine(formatDiagnostic({ ...d, sourceLine: undefined }));
  const listed = errors.filter((d) => d.code !== 'SPEC_MORE_PROBLEMS');
  const tally = errors.filter((d) => d.code === 'SPEC_MORE_PROBLEMS').map((d) => `\n${line(d)}`).join('');
  const unlisted = errors.reduce((n, d) => n + (d.code === 'SPEC_MORE_PROBLEMS' ? Number(/and (\d+) more/.exec(d.message)?.[1] ?? 0) : 0), 0);
  const total = listed.length + unlisted;
  const shown = listed.slice(0, MAX_WIRE_DIAGNOSTICS).map(line);
  const rest = listed.length - shown.length;
  const more = rest > 0 ? `\n... and ${rest} more problem(s); run \`sutra-grid validate FILE\` to see them all` : '';
  return new RuntimeError('SPEC_INVALID', `spec_json: invalid spec, ${total} problem(s):\n${shown.join('\n')}${more}${tally}`, { field: 'spec_json', problems: total });
}

/** One line of at most {@link MAX_DIAGNOSTIC_CHARS} characters. */
function oneLine(text: string): string {
  const flat = text.replace(/\s*\n\s*/g, ' ');
  return flat.length <= MAX_DIAGNOSTIC_CHARS ? flat : `${flat.slice(0, MAX_DIAGNOSTIC_CHARS)}...`;
}
