import type { ChannelOptions } from '@grpc/grpc-js';
import { ClientError } from './errors.js';

/**
 * The largest spec a master takes, in bytes of `spec_json` (UTF-8): 2 MiB, the schema's
 * `SPEC_LIMITS.maxBytes` (a test keeps the two equal; this module stays free of the schema layer
 * because every daemon's gRPC server loads it). Refused at apply time, before any work, with a
 * message naming this limit. Every spec the master stores is at most this big, so GetSpec, plan and
 * apply can always carry it: a grid is never locked out of its own fix.
 */
export const MAX_SPEC_BYTES = 2 * 1024 * 1024;

/**
 * The largest request message any Sutra Grid server accepts and any of its clients sends: a
 * maximal spec plus 1 MiB for the rest of the request. Servers refuse bigger messages before
 * decoding them (and before the token check), so an unauthenticated caller cannot make a daemon
 * buffer more than this.
 */
export const MAX_REQUEST_BYTES = MAX_SPEC_BYTES + 1024 * 1024;

/**
 * The largest response message any server sends and any client receives: 64 MiB. Answers can be
 * bigger than requests (a plan or a node list of a 150,000-node grid is about 20 MB), and they come
 * from the daemon the client chose to call.
 */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** Channel options every Sutra Grid client uses: the shared message limits, channelz off. */
export function clientChannelOptions(extra: ChannelOptions = {}): ChannelOptions {
  return {
    'grpc.max_send_message_length': MAX_REQUEST_BYTES,
    'grpc.max_receive_message_length': MAX_RESPONSE_BYTES,
    // Channelz bookkeeping costs CPU on every call and nothing here reads it.
    'grpc.enable_channelz': 0,
    ...extra,
  };
}

/** Server options every Sutra Grid server uses: the shared message limits, channelz off. */
export function serverChannelOptions(): ChannelOptions {
  return {
    'grpc.max_receive_message_length': MAX_REQUEST_BYTES,
    'grpc.max_send_message_length': MAX_RESPONSE_BYTES,
    'grpc.enable_channelz': 0,
  };
}

/** `2097152` -> `2 MiB`; other sizes in bytes with thousands separators. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  return `${n.toLocaleString('en-US')} bytes`;
}

/**
 * Why `specJson` is too big to apply (naming {@link MAX_SPEC_BYTES}), or undefined when it fits.
 */
export function specSizeProblem(specJson: string): string | undefined {
  // Cheap bound first: UTF-8 takes at most 3 bytes per UTF-16 unit.
  if (specJson.length * 3 <= MAX_SPEC_BYTES) return undefined;
  const bytes = Buffer.byteLength(specJson, 'utf8');
  if (bytes <= MAX_SPEC_BYTES) return undefined;
  return `the spec is ${bytes.toLocaleString('en-US')} bytes as JSON; the largest spec a grid takes is ${formatBytes(MAX_SPEC_BYTES)} (${MAX_SPEC_BYTES.toLocaleString('en-US')} bytes): split the grid or shorten the spec`;
}

/**
 * Refuses a spec bigger than {@link MAX_SPEC_BYTES}, naming the limit. Clients call it before
 * sending (so the answer is this message, not a transport error), the master again on receipt.
 * @throws ClientError SPEC_INVALID (INVALID_ARGUMENT) with `field: 'spec_json'`.
 */
export function checkSpecSize(specJson: string): void {
  const problem = specSizeProblem(specJson);
  if (problem !== undefined) throw new ClientError('SPEC_INVALID', `spec_json: ${problem}`, { field: 'spec_json', limit: MAX_SPEC_BYTES });
}
