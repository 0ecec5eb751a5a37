import { GridError, type ErrorContext } from '../errors/index.js';
import { formatDiagnostic } from './diagnostics.js';

/**
 * Stable error codes of the spec layer and the error thrown at its API edge. Callers and tests
 * branch on `code`, never on message text.
 */

/** Every problem the spec layer can report. */
export type SpecErrorCode =
  /** The spec file could not be read. */
  | 'SPEC_FILE_READ'
  /** YAML (or JSON) that does not parse. */
  | 'SPEC_YAML_SYNTAX'
  /** The same key twice in one YAML mapping. */
  | 'SPEC_DUPLICATE_KEY'
  /** A JSON Schema violation: wrong type, unknown or missing property, bad enum value... */
  | 'SPEC_SCHEMA'
  /** A duration or size that does not parse or is out of range. */
  | 'SPEC_UNIT'
  /** Two agents with one id, or two clusters with one name. */
  | 'SPEC_DUPLICATE_ID'
  /** A cluster pinned to an agent id that is not declared. */
  | 'SPEC_UNKNOWN_AGENT'
  /** A placement selector (alone or with pins) that leaves no agent. */
  | 'SPEC_SELECTOR_NO_MATCH'
  /** Clusters that cannot fit the declared capacity of the agents they may use. */
  | 'SPEC_CAPACITY'
  /** A port range that is inverted, too small, or overlaps a service port. */
  | 'SPEC_PORT_RANGE'
  /** An address whose port is out of range, or two services on one address. */
  | 'SPEC_ADDRESS'
  /** Monitoring thresholds in an order that cannot work (degradedAfter >= offlineAfter...). */
  | 'SPEC_MONITORING'
  /** A topology that will work but not as well as intended (replicas sharing an agent). */
  | 'SPEC_TOPOLOGY'
  /** A size past a documented limit (`SPEC_LIMITS`): text, nesting, aliases, counts, lengths. */
  | 'SPEC_LIMIT'
  /** Stands for the problems past the first `SPEC_LIMITS.maxDiagnostics`, which are not listed. */
  | 'SPEC_MORE_PROBLEMS';

/** `error` makes a spec invalid; `warning` is reported but the spec is still accepted. */
export type Severity = 'error' | 'warning';

/** One problem found in a spec, with its place. */
export interface Diagnostic {
  readonly code: SpecErrorCode;
  readonly severity: Severity;
  readonly message: string;
  /** JSON Pointer (RFC 6901) to the offending value; '' is the whole document. */
  readonly pointer: string;
  /** File name as given by the caller, or a label such as `<object>`. */
  readonly file: string;
  /** 1-based line; absent when the spec came as an object rather than text. */
  readonly line?: number;
  /** 1-based column. */
  readonly col?: number;
  /** The source line the problem is on, for the caret display. */
  readonly sourceLine?: string;
  /** Where `col` falls in `sourceLine` (1-based), when the line shown was cut around it. */
  readonly sourceCol?: number;
  /** How many characters of `sourceLine` to underline from `col` (at least 1). */
  readonly length?: number;
}

/** Base of errors thrown by the spec layer: a stable code, readonly context and an optional cause. */
export class GridSpecError extends GridError<SpecErrorCode> {
  constructor(code: SpecErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(code, message, context, options);
    this.name = 'GridSpecError';
  }
}

/** A duration or size that does not parse; `field` names the key or CLI flag it came from. */
export class UnitError extends GridSpecError {
  readonly field: string;

  constructor(field: string, message: string) {
    super('SPEC_UNIT', `${field}: ${message}`, { field });
    this.name = 'UnitError';
    this.field = field;
  }
}

/**
 * A spec that failed validation, thrown once at the API edge. It carries every diagnostic (errors
 * and warnings); `code` is the code of the first error.
 */
export class SpecError extends GridSpecError {
  readonly diagnostics: readonly Diagnostic[];

  constructor(file: string, diagnostics: readonly Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    const first = errors[0] ?? diagnostics[0];
    const summary = `${file}: invalid grid spec: ${errors.length} error${errors.length === 1 ? '' : 's'}`;
    super(first?.code ?? 'SPEC_SCHEMA', first ? `${summary}; first: ${first.message}` : summary, { file });
    this.name = 'SpecError';
    this.diagnostics = diagnostics;
  }

  /** The diagnostics of severity `error`. */
  get errors(): readonly Diagnostic[] {
    return this.diagnostics.filter((d) => d.severity === 'error');
  }

  /** Every diagnostic with its place and source line, as `validate` prints them. */
  override detailLines(): readonly string[] {
    return this.diagnostics.map(formatDiagnostic);
  }
}
