import { formatDiagnostics, loadGridSpecFile, type CompiledGridSpec, type GridSpecInput } from '../../schema/index.js';
import { RuntimeError } from '../errors.js';

/** A spec file that passed validation. */
export interface LoadedSpec {
  readonly file: string;
  readonly input: GridSpecInput;
  readonly compiled: CompiledGridSpec;
  /** What ApplySpec carries. */
  readonly json: string;
}

/**
 * Loads and validates a grid.yaml. On failure every diagnostic (`file:line:col: message` with the
 * source line and a caret) goes to stderr and a one-line SPEC_INVALID error is thrown, so nothing
 * is sent to the master: a bad spec applies nothing.
 */
export async function loadSpecForCommand(file: string): Promise<LoadedSpec> {
  const result = await loadGridSpecFile(file);
  const warnings = result.diagnostics.filter((d) => d.severity === 'warning');
  if (!result.ok) {
    process.stderr.write(`${formatDiagnostics(result.diagnostics)}\n`);
    const errors = result.diagnostics.length - warnings.length;
    throw new RuntimeError('SPEC_INVALID', `${file}: ${errors} problem${errors === 1 ? '' : 's'} found; nothing was applied`, { field: file });
  }
  if (warnings.length > 0) process.stderr.write(`${formatDiagnostics(warnings)}\n`);
  return { file, input: result.spec, compiled: result.compiled, json: JSON.stringify(result.spec) };
}
