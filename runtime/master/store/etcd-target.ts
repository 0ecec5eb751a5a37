import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Etcd3 } from 'etcd3';
import { ConfigError } from '../../errors.js';

/** Where the masters' shared state lives: `--store etcd://HOST:PORT[,HOST:PORT...]` plus TLS files. */
export interface EtcdTarget {
  /** `HOST:PORT` of each etcd member given. */
  readonly endpoints: readonly string[];
  /** PEM files for TLS to etcd (`--etcd-ca`, `--etcd-cert`, `--etcd-key`); without `ca`, plaintext. */
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  /** Keys live under this prefix, so several grids may share one etcd. @default "/sutra-grid/" */
  readonly prefix?: string | undefined;
}

/** Most members a `--store` may name (etcd clusters have 3, 5 or 7). */
const MAX_ENDPOINTS = 16;

/**
 * The etcd members of a `--store` value.
 * @throws ConfigError naming `--store` for another scheme, an empty list or a bad HOST:PORT.
 */
export function parseEtcdStore(value: string, field = '--store'): string[] {
  const m = /^etcd:\/\/(.+)$/.exec(value);
  if (m === null) throw new ConfigError(field, `expected etcd://HOST:PORT[,HOST:PORT...] (or leave it out for the file store), got "${value}"`);
  const endpoints = m[1]!.split(',').map((s) => s.trim().replace(/\/$/, ''));
  if (endpoints.length > MAX_ENDPOINTS) throw new ConfigError(field, `at most ${MAX_ENDPOINTS} etcd members, got ${endpoints.length}`);
  for (const e of endpoints) {
    if (!/^(\[[^\]]+\]|[^:\s/,]+):\d{1,5}$/.test(e) || Number(e.slice(e.lastIndexOf(':') + 1)) > 65535) {
      throw new ConfigError(field, `"${e}" is not HOST:PORT (in "${value}")`);
    }
  }
  return endpoints;
}

/** Unary etcd calls give up after this: a lost quorum must refuse a change, not hang it. */
export const ETCD_CALL_TIMEOUT_MS = 3000;

/**
 * etcd3 guards each member with a circuit breaker: after three failed calls in a row it sends that
 * member nothing for a while (5 s by default) and fails calls at once instead. Once a lost quorum is
 * back, a call in that window fails although etcd would answer: CI saw an apply refused ("the
 * circuit breaker is open") right after etcd recovered. Here the window is 1 s, and a call that
 * every member's breaker refused waits it out once ({@link etcdCall}).
 */
export const ETCD_HALF_OPEN_MS = 1000;

/** `fn` (one etcd call), tried again once after {@link ETCD_HALF_OPEN_MS} if the breakers refused it untried. */
export async function etcdCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    // cockatiel's own mark of its BrokenCircuitError (what etcd3 throws when no member was tried).
    if (!(err instanceof Error && 'isBrokenCircuitError' in err)) throw err;
    await new Promise((resolve) => setTimeout(resolve, ETCD_HALF_OPEN_MS));
    return fn();
  }
}

/** A client for `target`; TLS files are read now (a missing one fails start-up, naming its flag). */
export function connectEtcd(target: EtcdTarget): Etcd3 {
  const read = (path: string | undefined, flag: string): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(flag, `cannot read ${path}: ${(err as Error).message}`);
    }
  };
  const ca = read(target.ca, '--etcd-ca');
  const cert = read(target.cert, '--etcd-cert');
  const key = read(target.key, '--etcd-key');
  if ((cert === undefined) !== (key === undefined)) throw new ConfigError(cert === undefined ? '--etcd-cert' : '--etcd-key', 'give --etcd-cert and --etcd-key together');
  if (cert !== undefined && ca === undefined) throw new ConfigError('--etcd-ca', 'is required with --etcd-cert (the CA that signed the etcd members)');
  const scheme = ca !== undefined ? 'https' : 'http';
  // Loaded here, not at import: etcd3 brings its own grpc-js, proto-loader and protobufjs and parses
  // its .proto files (~22 MB of RSS), which a master on the file store never uses.
  const load = createRequire(import.meta.url);
  const { Etcd3: Client, isRecoverableError } = load('etcd3') as typeof import('etcd3');
  // The breaker etcd3 puts on each member by default, with a shorter open window (ETCD_HALF_OPEN_MS).
  const { circuitBreaker, ConsecutiveBreaker, handleWhen } = load('cockatiel') as typeof import('cockatiel');
  return new Client({
    faultHandling: { host: () => circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: ETCD_HALF_OPEN_MS, breaker: new ConsecutiveBreaker(3) }) },
    hosts: target.endpoints.map((e) => `${scheme}://${e}`),
    dialTimeout: ETCD_CALL_TIMEOUT_MS,
    ...(ca !== undefined ? { credentials: { rootCertificate: ca, ...(key !== undefined && cert !== undefined ? { privateKey: key, certChain: cert } : {}) } } : {}),
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + ETCD_CALL_TIMEOUT_MS }),
  });
}

/** The key prefix in force: always ends with `/`. */
export function etcdPrefix(target: EtcdTarget): string {
  const p = target.prefix ?? '/sutra-grid/';
  return p.endsWith('/') ? p : `${p}/`;
}
