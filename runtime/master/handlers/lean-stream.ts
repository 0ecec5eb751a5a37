import { Metadata } from '@grpc/grpc-js';

/** The part of a grpc-js server stream this module touches. */
export interface SheddableCall {
  readonly metadata: Metadata;
  sendMetadata(responseMetadata: Metadata): void;
}

/** Node's key of an http2 stream's sent headers (`Symbol('sent-headers')`), once found. */
let sentHeadersKey: symbol | undefined;

/**
 * Node's http2 stream under a grpc-js server call: `call.call` is grpc-js's intercepting call, the
 * innermost of which holds `stream`. Undefined when grpc-js lays its objects out otherwise.
 */
function http2StreamOf(call: object): Record<symbol, unknown> | undefined {
  let inner = (call as { call?: unknown }).call;
  for (let depth = 0; depth < 8 && typeof inner === 'object' && inner !== null; depth++) {
    const stream = (inner as { stream?: unknown }).stream;
    if (typeof stream === 'object' && stream !== null && 'sentHeaders' in stream) return stream as Record<symbol, unknown>;
    inner = (inner as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}

/**
 * Sheds what a long-lived server stream (an agent's HeartbeatStream, open for the agent's whole
 * life) would otherwise keep beside it, once its caller has been checked (issue 17: 10,000 of
 * them on one master):
 *
 * - the request metadata (a Map and an array per header, ~0.5 KB): the caller was checked before
 *   the handler ran, and each message is checked against that caller, not the headers;
 * - Node's copy of the response headers (`stream.sentHeaders`, a dictionary-mode object, ~1 KB):
 *   the headers go out now, with no custom metadata as before, and nothing reads the copy.
 *
 * @returns whether Node's copy was found and dropped (false if grpc-js or Node changed their
 * internals: then the stream only keeps it; a test watches this).
 */
export function shedStreamState(call: SheddableCall): boolean {
  const metadata = call.metadata;
  for (const key of Object.keys(metadata.getMap())) metadata.remove(key);
  call.sendMetadata(new Metadata());
  const stream = http2StreamOf(call);
  if (stream === undefined) return false;
  sentHeadersKey ??= Object.getOwnPropertySymbols(stream).find((s) => s.description === 'sent-headers');
  if (sentHeadersKey === undefined || typeof stream[sentHeadersKey] !== 'object') return false;
  // Assigned, not deleted: a delete would turn the whole stream object into a slower, bigger dictionary.
  stream[sentHeadersKey] = undefined;
  return true;
}
