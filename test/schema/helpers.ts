import { parseGridSpec, type Diagnostic, type ParseResult } from '../../schema/index.js';

/** Joins lines into a YAML text, so a test's line numbers are the array positions + 1. */
export function yaml(...lines: string[]): string {
  return lines.join('\n') + '\n';
}

/** A compact view of a diagnostic for exact comparisons. */
export interface Problem {
  code: Diagnostic['code'];
  at: string;
  pointer: string;
  severity?: 'warning';
}

/** Parses `text` as grid.yaml and returns its diagnostics as `{code, at: 'line:col', pointer}`. */
export function problemsOf(text: string): Problem[] {
  return compact(parseGridSpec(text, 'grid.yaml'));
}

/** The diagnostics of a result in compact form. */
export function compact(result: ParseResult): Problem[] {
  return result.diagnostics.map((d) => ({
    code: d.code,
    at: d.line === undefined ? '-' : `${d.line}:${d.col ?? '?'}`,
    pointer: d.pointer,
    ...(d.severity === 'warning' ? { severity: 'warning' as const } : {}),
  }));
}

/** The message of the only diagnostic, failing when there is not exactly one. */
export function onlyMessage(text: string): string {
  const { diagnostics } = parseGridSpec(text, 'grid.yaml');
  if (diagnostics.length !== 1) throw new Error(`expected one diagnostic, got ${JSON.stringify(diagnostics, null, 1)}`);
  return diagnostics[0]?.message ?? '';
}

/** The head of a valid spec (lines 1-5): name and one agent of 4 nodes; append to it. */
export const HEAD = ['name: test', 'agents:', '  - id: agent-1', '    capacity: { nodes: 4 }', '    labels: { zone: a }'];
