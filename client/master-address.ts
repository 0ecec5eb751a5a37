import { ConfigError } from '../errors/index.js';

/** The master's gRPC port unless told otherwise; the container contracts (Kubernetes, cdktf) publish it. */
export const DEFAULT_MASTER_PORT = 7000;

/** Where the master serves, and where clients and agents look for it, unless told otherwise. */
export const DEFAULT_MASTER_ADDRESS = `127.0.0.1:${DEFAULT_MASTER_PORT}`;

/**
 * HOST:PORT of the master from `--master` (or several, comma-separated, when masters share etcd), given either as HOST:PORT or as a URL with the
 * `http://` scheme (the form the design documents use, e.g. `http://localhost:7000`; a trailing
 * `/` is allowed).
 * @throws ConfigError naming `field` for another scheme, a path, or no port.
 */
export function masterAddress(value: string, field = '--master'): string {
  // Several masters on etcd: each is checked; callers split the list (client/leader-hint.ts).
  if (value.includes(',')) return value.split(',').map((v) => masterAddress(v.trim(), field)).join(',');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
  if (scheme === 'https') {
    throw new ConfigError(field, `"${value}": the master speaks plaintext gRPC (protect it with --token-file); give http://HOST:PORT or HOST:PORT`);
  }
  if (scheme !== undefined && scheme !== 'http') throw new ConfigError(field, `"${value}": unsupported scheme ${scheme}://; give http://HOST:PORT or HOST:PORT`);
  const hostPort = (scheme === undefined ? value : value.slice(scheme.length + 3)).replace(/\/$/, '');
  if (!/^(\[[^\]]+\]|[^:\s/]+):\d+$/.test(hostPort)) throw new ConfigError(field, `expected HOST:PORT or http://HOST:PORT, got "${value}"`);
  return hostPort;
}

