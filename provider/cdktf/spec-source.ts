import { readFileSync } from 'node:fs';
import { formatDiagnostics, parseGridSpec, specHash, type CompiledGridSpec } from '../../schema/index.js';
import { GridCdktfError } from './errors.js';

/** A grid spec file as the stack uses it. */
export interface LoadedSpec {
  /** The file's text, byte for byte (uploaded to the apply step, so its errors keep line:col). */
  readonly text: string;
  /**
   * The schema layer's `specHash` of the compiled spec: the same value the master compares, so a
   * change of comments or key order is not a change, and any change of meaning is.
   */
  readonly hash: string;
  readonly compiled: CompiledGridSpec;
}

/**
 * Reads and fully validates a grid.yaml at synth time, so `cdktf synth` fails on a bad spec with
 * every problem and its line:col instead of deploying something the master will refuse.
 */
export function loadSpec(specPath: string): LoadedSpec {
  let text: string;
  try {
    text = readFileSync(specPath, 'utf8');
  } catch (err) {
    throw new GridCdktfError('CDKTF_SPEC_UNREADABLE', 'specPath', `cannot read ${specPath}: ${(err as Error).message}`, { cause: err });
  }
  const result = parseGridSpec(text, specPath);
  if (!result.ok) {
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    const first = errors[0];
    throw new GridCdktfError('CDKTF_SPEC_INVALID', first !== undefined && first.pointer !== '' ? first.pointer : 'specPath', `invalid grid spec\n${formatDiagnostics(errors)}`);
  }
  return { text, hash: specHash(result.compiled), compiled: result.compiled };
}
