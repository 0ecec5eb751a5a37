/**
 * The spec parser: YAML (or JSON) text or a plain object in, every problem or a compiled spec
 * out. Problems are collected, never thrown, except by the `...OrThrow` edge functions.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { compileDefaulted } from './compile.js';
import { parseStrictJson } from './json-fast-path.js';
import type { CompiledGridSpec } from './compiled-spec.js';
import { hasErrors } from './diagnostics.js';
import { SpecError, type Diagnostic } from './errors.js';
import { checkSchema, type RawDiagnostic } from './schema-check.js';
import { checkSemantics } from './semantic-checks.js';
import { SourceMap } from './source-map.js';
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

/** Aliases expanding past this many nodes are refused ("billion laughs"). */
const MAX_ALIAS_COUNT = 100;

/**
 * Parses spec text (YAML; JSON is YAML too, so `ApplySpec`'s JSON goes through here as well,
 * on a fast path that skips the YAML parser unless there is a problem to place).
 * YAML syntax errors stop the analysis (the tree is unreliable); otherwise every schema and
 * semantic problem is reported, each with `line:col` and the source line.
 * @param file the name shown in diagnostics.
 */
export function parseGridSpec(text: string, file: string): ParseResult {
  const json = parseStrictJson(text);
  if (json) {
    const result = analyse(json.value, file, [], () => ({}));
    if (result.diagnostics.length === 0) return result;
    // Something to report: parse again as YAML to give each diagnostic its line and column.
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const map = new SourceMap(text, doc, lineCounter);
  const fromYaml = (error: YAMLError, severity: 'error' | 'warning'): Diagnostic => ({
    code: error.code === 'DUPLICATE_KEY' ? 'SPEC_DUPLICATE_KEY' : 'SPEC_YAML_SYNTAX',
    severity,
    message: error.message.replace(/ at line \d+, column \d+.*$/s, ''),
    pointer: '',
    file,
    ...map.at(...yamlErrorRange(error, text)),
  });
  const yamlDiagnostics = [
    ...doc.errors.map((e) => fromYaml(e, 'error')),
    ...doc.warnings.map((e) => fromYaml(e, 'warning')),
  ];
  if (doc.errors.length > 0) return { ok: false, file, diagnostics: sortByPosition(yamlDiagnostics) };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const diagnostic: Diagnostic = { code: 'SPEC_YAML_SYNTAX', severity: 'error', message: (error as Error).message, pointer: '', file, ...map.at(0) };
    return { ok: false, file, diagnostics: [diagnostic, ...yamlDiagnostics] };
  }
  return analyse(data, file, yamlDiagnostics, (d) => map.locate(d.pointer, d.atKey ? 'key' : 'value'));
}

/**
 * Validates and compiles a spec given as a plain object (the Pulumi provider, `ApplySpec` after
 * `JSON.parse`). Diagnostics carry JSON pointers but no line:col.
 * @param file the label shown in diagnostics.
 */
export function validateGridSpecObject(spec: unknown, file = '<object>'): ParseResult {
  return analyse(spec, file, [], () => ({}));
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

function analyse(
  data: unknown,
  file: string,
  earlier: readonly Diagnostic[],
  place: (d: RawDiagnostic) => Partial<Pick<Diagnostic, 'line' | 'col' | 'sourceLine' | 'length'>>,
): ParseResult {
  const { defaulted, diagnostics: schemaProblems } = checkSchema(data);
  const raw = [...schemaProblems, ...checkSemantics(data, defaulted)];
  const diagnostics = sortByPosition([
    ...earlier,
    ...raw.map((d): Diagnostic => ({
      code: d.code,
      severity: d.severity ?? 'error',
      message: d.message,
      pointer: d.pointer,
      file,
      ...place(d),
    })),
  ]);
  if (hasErrors(diagnostics)) return { ok: false, file, diagnostics };
  return {
    ok: true,
    file,
    spec: data as GridSpecInput,
    compiled: compileDefaulted(defaulted as GridSpecDefaulted),
    diagnostics,
  };
}

/** Source order; diagnostics without a position keep their discovery order (stable sort). */
function sortByPosition(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}
