import { isIPv4, isIPv6 } from 'node:net';

/**
 * The grpc-js channel target for `address` (HOST:PORT, or [IPv6]:PORT): an IP literal is named with
 * grpc-js' `ipv4:`/`ipv6:` scheme, so its IP resolver reads the address from the text, as the DNS
 * resolver (the default scheme) would for an IP; a host name goes to DNS unchanged. The DNS
 * resolver creates a c-ares resolver (Node's `dns` module and its channel, /etc/resolv.conf read)
 * even for an IP it never looks up: ~1.5 ms of a `sutra-grid status` call, which is mostly start-up.
 * The authority the channel sends (`:authority`, TLS) is the address either way. Servers bind
 * through it too (runtime/common/grpc-server.ts): an address to listen on resolves the same way.
 */
export function channelTarget(address: string): string {
  const colon = address.lastIndexOf(':');
  if (colon <= 0) return address;
  const host = address.slice(0, colon);
  if (isIPv4(host)) return `ipv4:${address}`;
  if (host.startsWith('[') && host.endsWith(']') && isIPv6(host.slice(1, -1))) return `ipv6:${address}`;
  return address;
}
