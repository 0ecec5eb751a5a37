/**
 * Several masters on etcd, one leader: a master that does not lead refuses with UNAVAILABLE and
 * names the leader as `[leader=HOST:PORT]` (runtime/master/leadership.ts). Clients and agents
 * given several addresses find the leader from that, or by trying the next address.
 */

/** The addresses of a `--master` value (`HOST:PORT[,HOST:PORT...]`, as masterAddress returns it). */
export function splitMasters(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The leader a refusal names, if any. */
export function leaderHint(details: string): string | undefined {
  return /\[leader=([^\]\s]+)\]/.exec(details)?.[1];
}

/** True when the refusal came from a master that does not lead (with or without a known leader). */
export function isNotLeader(details: string): boolean {
  return details.includes('this master does not lead');
}

/** Transport failures before the call reached a master: safe to send elsewhere. */
export const NOT_CONNECTED = /No connection established|ECONNREFUSED|Failed to connect|connect EHOSTUNREACH|getaddrinfo/i;

/**
 * Where to send a call next after it failed with gRPC `code` and `details` on `current` among
 * `addresses`: the named leader, the next address, or undefined (the failure is the answer).
 * `idempotent` callers (an agent's registration and heartbeats) move on after any failure, also a
 * timeout (a frozen master); others only when the call surely did nothing.
 */
export function nextMaster(addresses: readonly string[], current: string, code: number | undefined, details: string, idempotent = false): string | undefined {
  if (addresses.length < 2) return undefined;
  const hint = leaderHint(details);
  // 14 = UNAVAILABLE: a follower's refusal, or nothing listening.
  if (code === 14 && hint !== undefined && hint !== current) return hint;
  if (!idempotent && (code !== 14 || (!isNotLeader(details) && !NOT_CONNECTED.test(details)))) return undefined;
  const i = addresses.indexOf(current);
  return addresses[(i + 1) % addresses.length];
}
