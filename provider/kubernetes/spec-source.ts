import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { GridKubernetesError } from './errors.js';

/** The grid spec as the component ships it: the exact text and its content hash. */
export interface SpecSource {
  /** The grid.yaml text, byte for byte as given (it goes into the ConfigMap). */
  readonly text: string;
  /** Hex SHA-256 of `text`; names the apply Job so a changed spec applies again. */
  readonly sha256: string;
  /** Where the text came from, for error messages. */
  readonly origin: string;
}

/**
 * Reads the spec from exactly one of a path or a text. The text is only checked to be a YAML
 * mapping here; the master validates it fully on apply (and `sutra-grid validate` does offline).
 */
export function readSpecSource(specPath: string | undefined, specText: string | undefined): SpecSource {
  if ((specPath === undefined) === (specText === undefined)) {
    throw new GridKubernetesError('K8S_INVALID_PROPS', 'specPath', 'give exactly one of specPath and specText');
  }
  let text: string;
  let origin: string;
  if (specPath !== undefined) {
    origin = specPath;
    try {
      text = readFileSync(specPath, 'utf8');
    } catch (err) {
      throw new GridKubernetesError('K8S_SPEC_UNREADABLE', 'specPath', `cannot read ${specPath}: ${(err as Error).message}`, { cause: err });
    }
  } else {
    origin = '<specText>';
    text = specText as string;
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new GridKubernetesError('K8S_SPEC_INVALID', specPath !== undefined ? 'specPath' : 'specText', `${origin}: ${(err as Error).message}`, { cause: err });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new GridKubernetesError('K8S_SPEC_INVALID', specPath !== undefined ? 'specPath' : 'specText', `${origin}: a grid spec is a YAML mapping`);
  }
  return { text, sha256: createHash('sha256').update(text).digest('hex'), origin };
}
