import { GridError } from '../../errors/index.js';

/**
 * Stable error codes of the cdktf stack. Callers and tests branch on these, never on message text.
 */
export type CdktfErrorCode =
  /** A prop has a value the stack cannot synthesize; `field` names it. */
  | 'CDKTF_INVALID_PROPS'
  /** The grid spec file could not be read. */
  | 'CDKTF_SPEC_UNREADABLE'
  /** The grid spec was read but is not a valid grid spec. */
  | 'CDKTF_SPEC_INVALID';

/** Base of every error thrown by `provider/cdktf`: a stable code and the field it concerns. */
export class GridCdktfError extends GridError<CdktfErrorCode> {
  /** The prop (or spec location) the error is about, e.g. `masterPort`. */
  readonly field: string;

  constructor(code: CdktfErrorCode, field: string, message: string, options?: { cause?: unknown }) {
    super(code, `${field}: ${message}`, { field }, options);
    this.name = 'GridCdktfError';
    this.field = field;
  }
}
