import { GridError, type ErrorContext } from '../errors/index.js';

/** Stable codes of the client layer's own refusals (before anything reaches the master). */
export type ClientErrorCode =
  /** The spec is too big to send: the master would refuse it. */
  | 'SPEC_INVALID';

/** An error raised on the client side of the wire. */
export class ClientError extends GridError<ClientErrorCode> {
  constructor(code: ClientErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(code, message, context, options);
    this.name = 'ClientError';
  }
}
