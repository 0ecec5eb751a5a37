import net from 'node:net';

/**
 * Answers `net.isIPv6` for text without a colon at once. grpc-js asks it about every address it
 * binds or dials (subchannelAddressToString), and Node's answer runs a regular expression large
 * enough that V8 compiling it, twice (its first run interpreted, then tiered up), was ~4 ms of a
 * storage-server start's CPU (more than any other single function once the code cache took the
 * compile of the bundle away) and the largest single function of a `sutra-grid status` call. Every
 * IPv6 address has a colon in its text form, so the answer is the same; text with one still goes
 * to Node's own check. Called once, by the entry points (the storage-server's, the CLI's): it
 * changes the `net` module of the whole process.
 */
export function shortCircuitIPv6Check(): void {
  const isIPv6 = net.isIPv6;
  Object.assign(net, { isIPv6: (input: string): boolean => String(input).includes(':') && isIPv6(input) });
}
