import { GridError } from '../../errors/index.js';

/**
 * Stable error codes of the Kubernetes component. Callers and tests branch on these, never on
 * message text.
 */
export type KubernetesErrorCode =
  /** A prop has a value the component cannot turn into manifests; `field` names it. */
  | 'K8S_INVALID_PROPS'
  /** The grid spec file could not be read. */
  | 'K8S_SPEC_UNREADABLE'
  /** The grid spec was read but is not a valid grid spec. */
  | 'K8S_SPEC_INVALID';

/** Base of every error thrown by `provider/kubernetes`: a stable code and the field it concerns. */
export class GridKubernetesError extends GridError<KubernetesErrorCode> {
  /** The prop (or spec path) the error is about, e.g. `masterStorageSize`. */
  readonly field: string;

  constructor(code: KubernetesErrorCode, field: string, message: string, options?: { cause?: unknown }) {
    super(code, `${field}: ${message}`, { field }, options);
    this.name = 'GridKubernetesError';
    this.field = field;
  }
}
