/**
 * Turning diagnostics into text. The CLI (`sutra-grid validate`) only prints what these return.
 */
import type { Diagnostic } from './errors.js';

/**
 * One diagnostic as `file:line:col: message (at /pointer)`, then the source line and a caret
 * under the offending text (YAML syntax and file errors have no pointer part). Warnings say so after the position. Without a position (a spec
 * given as an object) the first line is `file: message (at /pointer)`.
 */
export function formatDiagnostic(diagnostic: Diagnostic): string {
  const where = diagnostic.line !== undefined ? `${diagnostic.file}:${diagnostic.line}:${diagnostic.col ?? 1}` : diagnostic.file;
  const severity = diagnostic.severity === 'warning' ? 'warning: ' : '';
  // Syntax and file errors are about text, not about a value a pointer could name.
  const textual = diagnostic.code === 'SPEC_YAML_SYNTAX' || diagnostic.code === 'SPEC_DUPLICATE_KEY' || diagnostic.code === 'SPEC_FILE_READ';
  const at = textual ? '' : ` (at ${diagnostic.pointer === '' ? '/' : diagnostic.pointer})`;
  const head = `${where}: ${severity}${diagnostic.message}${at}`;
  if (diagnostic.sourceLine === undefined || diagnostic.col === undefined) return head;
  // Keep the source line's tabs in the padding so the caret lines up however tabs are shown.
  const padding = diagnostic.sourceLine.slice(0, (diagnostic.sourceCol ?? diagnostic.col) - 1).replace(/[^\t]/g, ' ');
  const underline = '^' + '~'.repeat(Math.max(0, (diagnostic.length ?? 1) - 1));
  return `${head}\n  ${diagnostic.sourceLine}\n  ${padding}${underline}`;
}

/** Every diagnostic, one block each, separated by blank lines; '' when there are none. */
export function formatDiagnostics(diagnostics: readonly Diagnostic[]): string {
  return diagnostics.map(formatDiagnostic).join('\n\n');
}

/** `2 errors, 1 warning`, or `no problems`. */
export function summarizeDiagnostics(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  if (diagnostics.length === 0) return 'no problems';
  const parts = [`${errors} error${errors === 1 ? '' : 's'}`];
  if (warnings > 0) parts.push(`${warnings} warning${warnings === 1 ? '' : 's'}`);
  return parts.join(', ');
}

/** True when any diagnostic is an error (the spec is refused). */
export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}
