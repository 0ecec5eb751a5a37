import net from 'node:net';

/**
 * Answers `net.isIPv6` for text without a colon at once. grpc-js asks it about the bind address
 * while the storage-server starts (subchannelAddressToString), and Node's answer runs a regular
 * expression large enough that V8 compiling it, twice (its first run interpreted, then tiered up),
 * was ~4 ms of a start's CPU: more than any other single function left once the code cache took
 * the compile of the bundle away. Every IPv6 address has a colon in its text form, so the answer
 * is the same; text with one still goes to Node's own check. Called once, by the entry point: it
 * changes the `net` module of the whole process.
 */
export function shortCircuitIPv6Check(): void {
  const isIPv6 = net.isIPv6;
  Object.assign(net, { isIPv6: (input: string): boolean => String(input).includes(':') && isIPv6(input) });
}
