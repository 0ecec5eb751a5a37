/**
 * The one error base of the project. Every layer subclasses it with its own closed union of codes
 * (`SpecErrorCode`, `PlanErrorCode`, `RuntimeErrorCode`...); callers and tests branch on `code`,
 * never on message text, and {@link formatError} prints any of them.
 */

/** What an error is about; each layer adds its own keys (agentId, nodeId, cluster...). */
export interface ErrorContext {
  /** The input field, flag or property path the error names, when there is one. */
  readonly field?: string;
  readonly agentId?: string;
  readonly nodeId?: string;
  readonly [key: string]: unknown;
}

/** Base of every error the project throws: a stable code, readonly context and an optional cause. */
export class GridError<C extends string = string> extends Error {
  readonly code: C;
  readonly context: ErrorContext;

  constructor(code: C, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GridError';
    this.code = code;
    this.context = context;
  }

  /**
   * Lines printed under the one-line summary by {@link formatError}; a subclass with more to say
   * (every diagnostic of a spec, every reason of a failed converge) overrides it.
   */
  detailLines(): readonly string[] {
    return [];
  }
}

/** A configuration value (daemon config key, CLI flag, provider input) was refused; `field` names it. */
export class ConfigError extends GridError<'CONFIG_INVALID'> {
  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super('CONFIG_INVALID', `${field}: ${message}`, { field }, options);
    this.name = 'ConfigError';
  }
}
