import { readFileSync } from 'node:fs';
import { formatDiagnostics, parseGridSpec, specHash, type CompiledGridSpec } from '../../schema/index.js';
import { GridKubernetesError } from './errors.js';

/** The grid spec as the component ships it. */
export interface SpecSource {
  /** The grid.yaml text, byte for byte as given (it goes into the ConfigMap). */
  readonly text: string;
  /**
   * The schema layer's `specHash` of the compiled spec (what the master compares): names the
   * apply Job, so a change of meaning applies again and a change of comments does not.
   */
  readonly hash: string;
  readonly compiled: CompiledGridSpec;
}

/**
 * Reads the spec from exactly one of a path or a text and validates it fully, so `pulumi preview`
 * fails on a bad spec with every problem and its line:col, before anything is deployed.
 */
export function readSpecSource(specPath: string | undefined, specText: string | undefined): SpecSource {
  if ((specPath === undefined) === (specText === undefined)) {
    throw new GridKubernetesError('K8S_INVALID_PROPS', 'specPath', 'give exactly one of specPath and specText');
  }
  let text: string;
  if (specPath !== undefined) {
    try {
      text = readFileSync(specPath, 'utf8');
    } catch (err) {
      throw new GridKubernetesError('K8S_SPEC_UNREADABLE', 'specPath', `cannot read ${specPath}: ${(err as Error).message}`, { cause: err });
    }
  } else {
    text = specText as string;
  }
  const origin = specPath ?? '<specText>';
  const result = parseGridSpec(text, origin);
  if (!result.ok) {
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    const first = errors[0];
    const field = first !== undefined && first.pointer !== '' ? first.pointer : specPath !== undefined ? 'specPath' : 'specText';
    throw new GridKubernetesError('K8S_SPEC_INVALID', field, `invalid grid spec\n${formatDiagnostics(errors)}`);
  }
  return { text, hash: specHash(result.compiled), compiled: result.compiled };
}
