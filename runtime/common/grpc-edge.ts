/**
 * What every server checks at the wire edge, before a handler runs and after it answers:
 * request bodies that are not well-formed protobuf are refused (the generated decoders would read
 * them as empty requests and run them), and error texts are bounded so that they fit in the
 * status trailer whatever a caller sent.
 */
import { status as GrpcStatus, type ServiceDefinition } from '@grpc/grpc-js';
import { RuntimeError } from '../errors.js';

/**
 * Longest error text sent in a status, measured as grpc-js sends it (`encodeURI`): headers of more
 * than 8 KiB are refused by common clients, and 16-64 KiB stall HTTP/2 stacks until the deadline.
 */
export const MAX_DETAILS_CHARS = 4096;

/** Longest prefix of a caller's input quoted back in an error message. */
export const MAX_QUOTED_CHARS = 64;

/** A request body the server refused to decode; handlers never see it (wrapService answers). */
export class MalformedRequest {
  constructor(
    /** Method path, e.g. `/sutra.grid.v1.GridMaster/DeleteSpec`. */
    readonly path: string,
    /** What is wrong, with the byte offset. */
    readonly problem: string,
  ) {}

  /** The INVALID_ARGUMENT status sent for it. */
  toServiceError(): Error & { code: GrpcStatus; details: string } {
    const details = `malformed request body for ${this.path}: ${this.problem}`;
    return Object.assign(new Error(details), { code: GrpcStatus.INVALID_ARGUMENT, details });
  }
}

/**
 * Checks the top level of a protobuf body: every tag has a field number from 1 to 2^29-1 and a
 * wire type proto3 uses (varint, 64-bit, length-delimited, 32-bit), and every field ends inside the
 * body. The generated decoders stop silently at a field number 0 or an end-group tag and return
 * whatever they had read: an empty DeleteSpec or SpawnStorageNode, which would then run.
 * @returns what is wrong, or undefined for a well-formed body.
 */
export function wireProblem(buf: Uint8Array): string | undefined {
  const len = buf.length;
  let pos = 0;
  const varint = (): number | undefined => {
    let value = 0;
    for (let i = 0; i < 10; i++) {
      if (pos >= len) return undefined;
      const b = buf[pos++]!;
      value += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) return value;
    }
    return undefined;
  };
  while (pos < len) {
    const at = pos;
    const tag = varint();
    if (tag === undefined) return `truncated field tag at byte ${at}`;
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 0) return `field number 0 at byte ${at} (protobuf forbids it)`;
    if (field > 0x1fffffff) return `field number ${field} at byte ${at} is out of range`;
    switch (wireType) {
      case 0:
        if (varint() === undefined) return `truncated varint of field ${field} at byte ${at}`;
        break;
      case 1:
      case 5:
        pos += wireType === 1 ? 8 : 4;
        if (pos > len) return `truncated fixed-size field ${field} at byte ${at}`;
        break;
      case 2: {
        const n = varint();
        if (n === undefined || pos + n > len) return `length-delimited field ${field} at byte ${at} runs past the end of the body`;
        pos += n;
        break;
      }
      default:
        return `wire type ${wireType} of field ${field} at byte ${at} is not allowed`;
    }
  }
  return undefined;
}

/**
 * The service definition with every request decoder guarded by {@link wireProblem}: a malformed
 * body (or one the generated decoder throws on) decodes to a {@link MalformedRequest} rather than
 * an empty request or grpc-js' INTERNAL "Error deserializing request".
 */
export function strictDefinition<D extends ServiceDefinition>(definition: D): D {
  const out: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    const decode = method.requestDeserialize;
    out[name] = {
      ...method,
      requestDeserialize: (buf: Buffer): unknown => {
        const problem = wireProblem(buf);
        if (problem !== undefined) return new MalformedRequest(method.path, problem);
        try {
          return decode(buf);
        } catch (err) {
          return new MalformedRequest(method.path, err instanceof Error ? err.message : String(err));
        }
      },
    };
  }
  return out as D;
}

/**
 * `n` with a comma between each group of three digits, as toLocaleString('en-US') writes an
 * integer, without it: its first call loads ICU's number formatting, ~7 MB of a daemon's RSS for
 * good, and one caller's long value is enough to trigger it (issue 17).
 */
function groupThousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/g, ',');
}

/**
 * A caller's value quoted for an error message: JSON-quoted, cut to its first
 * {@link MAX_QUOTED_CHARS} characters with the length of the rest, so a 10 MB id never travels
 * back in a status.
 */
export function quote(value: string, max = MAX_QUOTED_CHARS): string {
  if (value.length <= max) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, max))}... (${groupThousands(value.length)} characters)`;
}

/** A UTF-16 surrogate without its pair. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Bounds an error text to {@link MAX_DETAILS_CHARS} as sent on the wire, and makes it well-formed
 * UTF-16 (grpc-js' `encodeURI` throws on a lone surrogate).
 */
export function capDetails(details: string, max = MAX_DETAILS_CHARS): string {
  const text = details.replace(LONE_SURROGATE, '\ufffd');
  if (text.length <= max / 9 || encodeURI(text).length <= max) return text;
  const suffix = ` ... (cut: ${groupThousands(text.length)} characters in all)`;
  let used = encodeURI(suffix).length;
  let end = 0;
  for (const ch of text) {
    const cost = encodeURI(ch).length;
    if (used + cost > max) break;
    used += cost;
    end += ch.length;
  }
  return text.slice(0, end) + suffix;
}

/** Agent and node ids: 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/**
 * A required id field of a request.
 * @throws GridError INVALID_ARGUMENT naming `field` when it is empty ("is required") or not an id
 * (quoting a short prefix of it).
 */
export function requireId(field: string, value: string): string {
  if (value === '') throw new RuntimeError('INVALID_ARGUMENT', `${field}: is required`, { field });
  return checkId(field, value);
}

/**
 * An optional id field: empty is allowed (the callee chooses), anything else must be an id.
 * @throws GridError INVALID_ARGUMENT naming `field`.
 */
export function optionalId(field: string, value: string): string {
  return value === '' ? value : checkId(field, value);
}

function checkId(field: string, value: string): string {
  if (!ID.test(value)) {
    throw new RuntimeError('INVALID_ARGUMENT', `${field}: must be 1-63 letters, digits, ".", "_" or "-", got ${quote(value)}`, { field });
  }
  return value;
}
