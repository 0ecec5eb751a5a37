import { GridError } from '../errors/index.js';

/**
 * Errors of the plan engine. The engine only throws for input it cannot make sense of; everything
 * else (no room, offline agents) is reported inside the plan.
 */

/** Stable codes; tests and callers branch on these, never on message text. */
export type PlanErrorCode =
  /** The compiled spec contradicts itself (duplicate ids, negative counts). */
  | 'PLAN_INVALID_SPEC'
  /** The live state is malformed (duplicate agents, unknown status, a node reported twice). */
  | 'PLAN_INVALID_LIVE_STATE'
  /** A {@link PlanOptions} value is out of range. */
  | 'PLAN_INVALID_OPTIONS';

/** Raised by the plan engine; `field` names the offending input path, e.g. `live.nodes[3].status`. */
export class PlanError extends GridError<PlanErrorCode> {
  constructor(
    code: PlanErrorCode,
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, `${field}: ${message}`, { field }, options);
    this.name = 'PlanError';
  }
}
