/**
 * The spec parser: YAML (or JSON) text or a plain object in, every problem or a compiled spec
 * out. Problems are collected, never thrown, except by the `...OrThrow` edge functions.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, type YAMLError } from 'yaml';
import { compileDefaulted } from './compile.js';
import type { CompiledGridSpec } from './compiled-spec.js';
import { hasErrors } from './diagnostics.js';
import { SpecError, type Diagnostic } from './errors.js';
import { scanJson } from './json-scan.js';
import { SPEC_LIMITS } from './limits.js';
import { LineIndex } from './line-index.js';
import { clip, limitDiagnostic, moreProblems, placed, placeJson, tooDeep, type Place } from './placed-diagnostics.js';
import { checkSchema, type RawDiagnostic } from './schema-check.js';
import { checkSemantics } from './semantic-checks.js';
import { SourceMap } from './source-map.js';
import { parseYamlGuarded } from './yaml-guard.js';
import type { GridSpecDefaulted, GridSpecInput } from './spec-types.js';

/** A spec that passed: the input as written, its compiled form, and any warnings. */
export interface ParseSuccess {
  readonly ok: true;
  readonly file: string;
  readonly spec: GridSpecInput;
  readonly compiled: CompiledGridSpec;
  /** Warnings only. */
  readonly diagnostics: readonly Diagnostic[];
}

/** A spec that failed, with every problem found (errors and warnings). */
export interface ParseFailure {
  readonly ok: false;
  readonly file: string;
  readonly diagnostics: readonly Diagnostic[];
}

/** The outcome of parsing or validating a spec. */
export type ParseResult = ParseSuccess | ParseFailure;

/** What `loadGridSpecOrThrow` returns. */
export interface LoadedGridSpec {
  readonly file: string;
  readonly spec: GridSpecInput;
  readonly compiled: CompiledGridSpec;
  readonly warnings: readonly Diagnostic[];
}

/**
 * Parses spec text (YAML; JSON is YAML too, so `ApplySpec`'s JSON goes through here as well,
 * on a fast path: JSON.parse, then one linear scan of the text to place diagnostics; the YAML
 * parser, a hundred times slower, is not used). Before any recursive work the text is bounded:
 * its size, its nesting, its aliases. YAML syntax errors stop the analysis (the tree is
 * unreliable); otherwise every schema and semantic problem is reported, each with `line:col` and
 * the source line, up to `SPEC_LIMITS.maxDiagnostics` of them and one that counts the rest.
 * @param file the name shown in diagnostics.
 */
export function parseGridSpec(text: string, file: string): ParseResult {
  const oversize = oversized(text, file);
  if (oversize !== undefined) return oversize;
  const json = parseJson(text);
  if (json && 'value' in json) return parseJsonText(text, json.value, file);
  const yamlBytes = text.length > SPEC_LIMITS.maxYamlBytes / 4 ? Buffer.byteLength(text) : text.length;
  if (yamlBytes > SPEC_LIMITS.maxYamlBytes) {
    // Too large for the YAML parser: if it meant to be JSON, say where JSON.parse stopped.
    const position = json ? Number(/position (\d+)/.exec(json.error)?.[1] ?? 0) : 0;
    const reason = json?.error.replace(/, ".*" is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '').slice(0, 80);
    const why = json ? `is not valid JSON (${reason ?? ''}) and, ` : '';
    const message = `the spec ${why}at ${yamlBytes} bytes, is too large to be read as YAML: at most ${SPEC_LIMITS.maxYamlBytes} (256 KiB) are accepted in YAML syntax, 2 MiB as JSON`;
    const lines = position > 0 ? new LineIndex(text) : new LineIndex(text.slice(0, 200));
    return failure(file, [limitDiagnostic(file, clip(message), lines.at(position))]);
  }
  return parseYamlText(text, file);
}

/**
 * {@link parseGridSpec} for JSON text the caller has already parsed: `value` is `JSON.parse(text)`,
 * a JSON object. The master parses ApplySpec's spec_json once and keeps the value (its canonical
 * form is stored), so the text is not parsed a second time here; it is still scanned to place
 * diagnostics and to find what JSON.parse lets through (duplicate keys, nesting past the limit).
 */
export function parseGridSpecJson(text: string, value: object, file: string): ParseResult {
  return oversized(text, file) ?? parseJsonText(text, value, file);
}

/** A failure when `text` is over the spec's size limit. */
function oversized(text: string, file: string): ParseFailure | undefined {
  const bytes = text.length > SPEC_LIMITS.maxBytes / 4 ? Buffer.byteLength(text) : text.length;
  if (bytes <= SPEC_LIMITS.maxBytes) return undefined;
  // Indexing the lines of a huge text is work the limit is there to avoid: show its start only.
  const start = new LineIndex(text.slice(0, 200)).at(0);
  return failure(file, [limitDiagnostic(file, `the spec is ${bytes} bytes; at most ${SPEC_LIMITS.maxBytes} (2 MiB) are accepted`, start)]);
}

function parseJsonText(text: string, value: unknown, file: string): ParseResult {
  const lines = new LineIndex(text);
  const scan = scanJson(text, SPEC_LIMITS.maxDepth);
  if (scan.tooDeepAt !== undefined) return failure(file, [tooDeep(file, lines.at(scan.tooDeepAt))]);
  if (scan.duplicateKey) {
    const { key, start, end } = scan.duplicateKey;
    const message = clip(`Map keys must be unique: "${key}" is repeated`);
    return failure(file, [{ code: 'SPEC_DUPLICATE_KEY', severity: 'error', message, pointer: '', file, ...placed(lines.at(start, end)) }]);
  }
  return analyse(
    value,
    file,
    [],
    (shown) => {
      const { places } = scanJson(text, SPEC_LIMITS.maxDepth, shown.map((d) => d.pointer));
      return (d) => placeJson(lines, places, d);
    },
    text.length,
  );
}

function parseYamlText(text: string, file: string): ParseResult {
  const lineCounter = new LineCounter();
  // logLevel 'error': yaml would otherwise print a process warning for every collection used as a
  // key (a hostile spec could fill a daemon's stderr); such a key fails the schema check anyway.
  const options = { lineCounter, prettyErrors: false, uniqueKeys: false, logLevel: 'error' as const };
  const parsed = parseYamlGuarded(text, SPEC_LIMITS.maxDepth, SPEC_LIMITS.maxAliases, options, lineCounter.addNewLine);
  if (!parsed.doc) {
    const { reason, at } = parsed.refused;
    const where = new LineIndex(text).at(at);
    return failure(file, [reason === 'depth' ? tooDeep(file, where) : limitDiagnostic(file, `more than ${SPEC_LIMITS.maxAliases} aliases`, where)]);
  }
  const doc = parsed.doc;
  const map = new SourceMap(text, doc);
  const fromYaml = (error: YAMLError, severity: 'error' | 'warning'): Diagnostic => ({
    code: error.code === 'DUPLICATE_KEY' ? 'SPEC_DUPLICATE_KEY' : 'SPEC_YAML_SYNTAX',
    severity,
    message: clip(error.message.replace(/ at line \d+, column \d+.*$/s, '')),
    pointer: '',
    file,
    ...placed(map.at(...yamlErrorRange(error, text))),
  });
  const warnings = doc.warnings.slice(0, SPEC_LIMITS.maxDiagnostics).map((e) => fromYaml(e, 'warning'));
  if (doc.errors.length > 0) {
    // yaml reports an error per bad token (785 for 1 KB of '['): only those listed are placed.
    const room = Math.max(1, SPEC_LIMITS.maxDiagnostics - warnings.length);
    const listed = sortByPosition([...doc.errors.slice(0, room).map((e) => fromYaml(e, 'error')), ...warnings]);
    const next = doc.errors[room];
    if (next) listed.push(moreProblems(file, doc.errors.length - room, 'error', '', placed(map.at(next.pos[0]))));
    return failure(file, listed);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: SPEC_LIMITS.maxAliasCount });
  } catch (error) {
    // yaml throws only for aliases expanding past maxAliasCount ("billion laughs").
    const diagnostic = limitDiagnostic(file, clip((error as Error).message), map.at(0));
    return failure(file, [diagnostic, ...warnings]);
  }
  return analyse(data, file, warnings, () => (d) => placed(map.locate(d.pointer, d.atKey ? 'key' : 'value')), text.length);
}

/**
 * Validates and compiles a spec given as a plain object (the Pulumi provider, `ApplySpec` after
 * `JSON.parse`). Diagnostics carry JSON pointers but no line:col.
 * @param file the label shown in diagnostics.
 */
export function validateGridSpecObject(spec: unknown, file = '<object>'): ParseResult {
  return analyse(spec, file, [], () => () => ({}));
}

/** Reads and parses a spec file; an unreadable file is a diagnostic (SPEC_FILE_READ), not a throw. */
export async function loadGridSpecFile(path: string): Promise<ParseResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    return {
      ok: false,
      file: path,
      diagnostics: [{ code: 'SPEC_FILE_READ', severity: 'error', message: `cannot read the spec: ${reason}`, pointer: '', file: path }],
    };
  }
  return parseGridSpec(text, path);
}

/** Loads a spec file and throws once, at the API edge, if it has any error. */
export async function loadGridSpecOrThrow(path: string): Promise<LoadedGridSpec> {
  const result = await loadGridSpecFile(path);
  if (!result.ok) throw new SpecError(result.file, result.diagnostics);
  return { file: result.file, spec: result.spec, compiled: result.compiled, warnings: result.diagnostics };
}

/**
 * Validates a spec object, fills its defaults and converts its units.
 * @throws SpecError carrying every diagnostic when the spec is invalid.
 */
export function compileGridSpec(input: GridSpecInput, file = '<object>'): CompiledGridSpec {
  const result = validateGridSpecObject(input, file);
  if (!result.ok) throw new SpecError(result.file, result.diagnostics);
  return result.compiled;
}

/**
 * Where to show a YAML error. yaml reports an unclosed quote at the end of the input, where the
 * user has nothing to fix; the opening quote (the last unescaped one) is the place to look.
 */
function yamlErrorRange(error: YAMLError, text: string): [number, number] {
  const quote = error.code === 'MISSING_CHAR' ? /closing (["'])quote/.exec(error.message)?.[1] : undefined;
  if (quote) {
    for (let i = Math.min(error.pos[0], text.length) - 1; i >= 0; i--) {
      if (text[i] !== quote) continue;
      // Skip escaped quotes: \" inside double quotes, '' inside single quotes.
      if (quote === '"' && text[i - 1] === '\\') continue;
      if (quote === "'" && text[i - 1] === "'") {
        i--;
        continue;
      }
      return [i, i + 1];
    }
  }
  return error.pos;
}

/**
 * Schema and semantic checks, then the diagnostics listed (at most `maxDiagnostics`) placed.
 * @param placer given the raw diagnostics to place, returns how to place each one.
 */
function analyse(
  data: unknown,
  file: string,
  earlier: readonly Diagnostic[],
  placer: (shown: readonly RawDiagnostic[]) => (d: RawDiagnostic) => Place,
  textLength = 0,
): ParseResult {
  const large = textLength > SPEC_LIMITS.maxFullCheckBytes;
  const { defaulted, diagnostics: schemaProblems } = checkSchema(data, large);
  // Past a limit the semantic checks would do the work the limit exists to refuse; a large spec
  // with a schema problem gets only that one.
  const overLimit = schemaProblems.some((d) => d.code === 'SPEC_LIMIT') || (large && schemaProblems.length > 0);
  const raw = overLimit ? schemaProblems : [...schemaProblems, ...checkSemantics(data, defaulted)];
  const room = Math.max(1, SPEC_LIMITS.maxDiagnostics - earlier.length);
  const place = placer(raw.slice(0, room + 1));
  const toDiagnostic = (d: RawDiagnostic): Diagnostic => ({
    code: d.code,
    severity: d.severity ?? 'error',
    message: clip(d.message),
    pointer: d.pointer,
    file,
    ...place(d),
  });
  const diagnostics = sortByPosition([...earlier, ...raw.slice(0, room).map(toDiagnostic)]);
  const next = raw[room];
  if (next) {
    const omitted = raw.slice(room);
    const severity = omitted.some((d) => (d.severity ?? 'error') === 'error') ? 'error' : 'warning';
    diagnostics.push(moreProblems(file, omitted.length, severity, next.pointer, place(next)));
  }
  if (hasErrors(diagnostics)) return { ok: false, file, diagnostics };
  return {
    ok: true,
    file,
    spec: data as GridSpecInput,
    compiled: compileDefaulted(defaulted as GridSpecDefaulted),
    diagnostics,
  };
}

/**
 * The value of `text` when it is a JSON object; JSON.parse's complaint when it looks like one but
 * is not; undefined when it does not look like JSON. The last two are then parsed as YAML.
 */
function parseJson(text: string): { value: unknown } | { error: string } | undefined {
  if (!/^\s*\{/.test(text)) return undefined;
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function failure(file: string, diagnostics: Diagnostic[]): ParseFailure {
  return { ok: false, file, diagnostics };
}

/** Source order; diagnostics without a position keep their discovery order (stable sort). */
function sortByPosition(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}
