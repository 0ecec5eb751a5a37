import { GridError } from '../../errors/index.js';

/**
 * Stable error codes of the Pulumi provider. Callers and tests branch on `code`, never on message
 * text; the message is what `pulumi up` prints, so it names the cluster, node or field involved.
 */

/** Every failure the `Grid` provider reports. */
export type PulumiGridErrorCode =
  /** A provider input (not the spec itself) is missing or malformed: `field` names it. */
  | 'GRID_INPUT_INVALID'
  /** The spec does not pass schema or semantic validation. */
  | 'GRID_SPEC_INVALID'
  /** The master could not be reached (connection refused, timeout). */
  | 'GRID_MASTER_UNREACHABLE'
  /** The master refused the credential (token, or TLS certificate). */
  | 'GRID_UNAUTHENTICATED'
  /** The master knows the caller but its role may not do this (e.g. a reader certificate applying). */
  | 'GRID_PERMISSION_DENIED'
  /** The master's spec changed since this stack last saw it (optimistic concurrency). */
  | 'GRID_STALE_GENERATION'
  /** The master already holds the spec of a differently named grid. */
  | 'GRID_CONFLICT'
  /** The master accepted the spec but cannot place some nodes (capacity, selectors). */
  | 'GRID_UNPLACED'
  /** The grid did not converge (or drain) within the timeout. */
  | 'GRID_CONVERGE_TIMEOUT'
  /** Any other error the master returned. */
  | 'GRID_MASTER_ERROR';

/** Base of every error thrown by `provider/pulumi`: a stable code, the field or place it concerns. */
export class PulumiGridError extends GridError<PulumiGridErrorCode> {
  /** Input property path, cluster or node the error is about; '' when it concerns the whole grid. */
  readonly field: string;

  constructor(code: PulumiGridErrorCode, field: string, message: string, options?: { cause?: unknown }) {
    super(code, field === '' ? message : `${field}: ${message}`, field === '' ? {} : { field }, options);
    this.name = 'PulumiGridError';
    this.field = field;
  }

  /** The same error (code and field) with advice appended to its message. */
  withHint(hint: string): PulumiGridError {
    const hinted = new PulumiGridError(this.code, '', `${this.message}. ${hint}`, { cause: this });
    return Object.defineProperty(hinted, 'field', { value: this.field });
  }
}

/**
 * A create or update whose spec was stored on the master but which did not finish converging.
 * The Pulumi dynamic-provider host turns `id` + `properties` + `reasons` into a partial-failure
 * response (pulumirpc.ErrorResourceInitFailed): the engine records the resource with its init
 * errors, and the next `pulumi up` retries with Update instead of creating a second grid.
 */
export class GridInitError extends PulumiGridError {
  /** The resource id (master address): present so the host reports a partial failure. */
  readonly id: string;
  /** The outputs as far as they are known, stored in state with the init errors. */
  readonly properties: Record<string, unknown>;
  /** One line per problem, each naming a cluster or node. */
  readonly reasons: string[];

  constructor(
    code: PulumiGridErrorCode,
    id: string,
    properties: Record<string, unknown>,
    reasons: string[],
    message: string,
  ) {
    super(code, '', message);
    this.name = 'GridInitError';
    this.id = id;
    this.properties = properties;
    this.reasons = reasons;
  }

  /** One line per problem. */
  override detailLines(): readonly string[] {
    return this.reasons;
  }
}
