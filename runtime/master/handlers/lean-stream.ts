import { Metadata } from '@grpc/grpc-js';

/** The part of a grpc-js server stream this module touches. */
export interface SheddableCall {
  readonly metadata: Metadata;
  sendMetadata(responseMetadata: Metadata): void;
}

/** Node's key of an http2 stream's sent headers (`Symbol('sent-headers')`), once found. */
let sentHeadersKey: symbol | undefined;

/**
 * The first object at `field` that `fits`, going down a grpc-js server call: `call.call` is its
 * intercepting call, whose `nextCall`s lead to the base call. Undefined when grpc-js lays its
 * objects out otherwise.
 */
function innerObject(call: object, field: 'stream' | 'decoder', fits: (o: object) => boolean): Record<PropertyKey, unknown> | undefined {
  let inner = (call as { call?: unknown }).call;
  for (let depth = 0; depth < 8 && typeof inner === 'object' && inner !== null; depth++) {
    const found = (inner as Record<string, unknown>)[field];
    if (typeof found === 'object' && found !== null && fits(found)) return found as Record<PropertyKey, unknown>;
    inner = (inner as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}

/** Node's http2 stream under a grpc-js server call. */
function http2StreamOf(call: object): Record<symbol, unknown> | undefined {
  return innerObject(call, 'stream', (s) => 'sentHeaders' in s);
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

/** grpc-js's StreamDecoder between two messages (`readState` NO_DATA). */
const DECODER_IDLE = 0;
/** Stand-ins for a finished message's parts: never read nor written before the next message replaces them. */
const NO_FLAG = Buffer.alloc(1);
const NO_PARTS: readonly Buffer[] = Object.freeze([]);

/**
 * Lets go of the last message's pieces that grpc-js's decoder keeps until the stream's next
 * message: its compressed flag and its body, each a slice of the received chunk (which they keep
 * whole), and the array holding the body. On a HeartbeatStream the next message comes a heartbeat
 * interval later, so each beat promoted ~450 B to the old generation (0.9 MB/s at 10,000 agents:
 * a full mark-compact every few seconds, each a burst of slow beats) and every stream kept its
 * last chunk (issue 17). Call it once a message was handled.
 *
 * Only an idle decoder is touched: one already inside the next message keeps what it read. Its
 * next message assigns both fields afresh before using them (a push into the frozen stand-in
 * would throw, not corrupt another stream).
 * @returns whether the decoder was found idle and released (false if grpc-js changed its
 * internals or a message is half read; a test watches this).
 */
export function releaseDecodedMessage(call: object): boolean {
  const decoder = innerObject(call, 'decoder', (d) => 'readState' in d);
  if (decoder?.['readState'] !== DECODER_IDLE || !Array.isArray(decoder['readPartialMessage']) || !Buffer.isBuffer(decoder['readCompressFlag'])) return false;
  decoder['readCompressFlag'] = NO_FLAG;
  decoder['readPartialMessage'] = NO_PARTS;
  return true;
}
