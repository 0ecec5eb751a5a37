/**
 * The client layer's GridSecurity calls (issue 14): fetching the grid CA pinned by its hash,
 * joining with a join token, renewing a certificate, creating and revoking tokens and credentials.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { connect as tlsConnect, type DetailedPeerCertificate } from 'node:tls';
import { status, type ServiceError } from '@grpc/grpc-js';
import { GridSecurityClient } from '../proto/gen/sutra/grid/v1/security.pb.js';
import { unary } from './grpc-call.js';
import { clientChannelOptions } from './wire-limits.js';
import { TlsSource, tlsChannelCredentials, TLS_CHANNEL_OPTIONS, type TlsMaterial } from './tls.js';
import { ClientError } from './errors.js';
import { splitMasters } from './leader-hint.js';

const CALL_MS = 15_000;

/**
 * The grid CA as the master at `address` presents it in its chain, accepted only when its SHA-256
 * (of the DER) equals `caHash` (`sha256:<hex>`). Nothing is sent before the CA is checked.
 * @throws ClientError UNAVAILABLE when the master cannot be reached, PERMISSION_DENIED when no
 * certificate of its chain has the pinned hash.
 */
export function fetchPinnedCa(addresses: string, caHash: string, timeoutMs = CALL_MS): Promise<string> {
  return eachMaster(addresses, (a) => fetchPinnedCaFrom(a, caHash, timeoutMs));
}

/**
 * `fn` at each address of a `--master` list (`HOST:PORT[,HOST:PORT...]`) in turn, until one
 * answers: several masters share one CA, and (unless they share etcd, where any master knows
 * every token) a join token is known only to the master that made it.
 * A bad argument is the answer at once; otherwise a refusal is reported before an unreachable
 * master, since it says more.
 */
async function eachMaster<T>(addresses: string, fn: (address: string) => Promise<T>): Promise<T> {
  const list = splitMasters(addresses);
  let refused: unknown;
  let unreachable: unknown;
  for (const address of list.length > 0 ? list : [addresses]) {
    try {
      return await fn(address);
    } catch (err) {
      const code = err instanceof ClientError ? err.code : (err as Partial<ServiceError>).code;
      if (code === 'INVALID_ARGUMENT' || code === status.INVALID_ARGUMENT) throw err;
      if (code === 'UNAVAILABLE' || code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED) unreachable ??= err;
      else refused ??= err;
    }
  }
  throw refused ?? unreachable;
}

function fetchPinnedCaFrom(address: string, caHash: string, timeoutMs: number): Promise<string> {
  const m = /^sha256:([0-9a-f]{64})$/.exec(caHash.trim().toLowerCase());
  if (!m) return Promise.reject(new ClientError('INVALID_ARGUMENT', `--ca-hash: expected sha256:<64 hex digits>, got ${JSON.stringify(caHash.slice(0, 80))}`, { field: '--ca-hash' }));
  const want = m[1]!;
  const sep = address.lastIndexOf(':');
  const host = address.slice(0, sep).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(sep + 1));
  return new Promise<string>((resolve, reject) => {
    // The master's certificate cannot be checked yet (its CA is what is being fetched): the pin is the check.
    const socket = tlsConnect({ host, port, rejectUnauthorized: false, ALPNProtocols: ['h2'], servername: 'sutra-grid' }, () => {
      let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      const seen = new Set<string>();
      while (cert !== undefined && cert.raw !== undefined && !seen.has(cert.fingerprint256)) {
        seen.add(cert.fingerprint256);
        if (createHash('sha256').update(cert.raw).digest('hex') === want) {
          const pem = new X509Certificate(cert.raw).toString();
          socket.destroy();
          resolve(pem);
          return;
        }
        cert = cert.issuerCertificate;
      }
      socket.destroy();
      reject(new ClientError('PERMISSION_DENIED', `the master at ${address} presents no CA with the pinned hash ${caHash}`, { field: '--ca-hash' }));
    });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new ClientError('UNAVAILABLE', `no TLS answer from ${address} within ${timeoutMs} ms`));
    });
    socket.on('error', (err) => reject(new ClientError('UNAVAILABLE', `cannot reach the master at ${address}: ${err.message}`, {}, { cause: err })));
  });
}

function client(address: string, material: TlsMaterial): GridSecurityClient {
  return new GridSecurityClient(address, tlsChannelCredentials(new TlsSource(material), { role: 'master' }), clientChannelOptions(TLS_CHANNEL_OPTIONS));
}

async function call<T>(address: string, material: TlsMaterial, token: string | undefined, fn: (c: GridSecurityClient) => Parameters<typeof unary<unknown, T>>[0], req: unknown): Promise<T> {
  const c = client(address, material);
  try {
    return await unary(fn(c), c, req, token, CALL_MS);
  } finally {
    c.close();
  }
}

/** Join: a certificate for `csrPem` under `name`, over a channel trusting `caPem` (pinned beforehand). */
export function joinGrid(addresses: string, caPem: string, token: string, name: string, csrPem: string): Promise<{ certPem: string; caPem: string; role: string }> {
  return eachMaster(addresses, (a) => call(a, { caPem }, undefined, (c) => c.join as never, { token, name, csrPem }));
}

/** RenewCertificate with the current credential. */
export function renewCertificate(addresses: string, material: TlsMaterial, csrPem: string): Promise<{ certPem: string; caPem: string }> {
  return eachMaster(addresses, (a) => call(a, material, undefined, (c) => c.renewCertificate as never, { csrPem }));
}

/** IssueNodeCertificate (agent): a `node` certificate for `nodeId`, for the key of `csrPem`. */
export function issueNodeCertificate(addresses: string, material: TlsMaterial, nodeId: string, csrPem: string): Promise<{ certPem: string; caPem: string }> {
  return eachMaster(addresses, (a) => call(a, material, undefined, (c) => c.issueNodeCertificate as never, { nodeId, csrPem }));
}

/** CreateJoinToken (admin): a one-time join token, or with `opts.api` a reusable HTTP API token. */
export function createJoinToken(
  address: string,
  material: TlsMaterial,
  role: string,
  ttlMs: number,
  sharedToken?: string,
  opts: { api?: boolean } = {},
): Promise<{ token: string; tokenId: string; expiresAtMs: number; caHash: string }> {
  return call(address, material, sharedToken, (c) => c.createJoinToken as never, { role, ttlMs, api: opts.api === true });
}

/** RevokeCredential (admin): a serial, or every certificate of an agent id. */
export async function revokeCredential(address: string, material: TlsMaterial, what: { serial?: string; agentId?: string }, sharedToken?: string): Promise<void> {
  await call(address, material, sharedToken, (c) => c.revokeCredential as never, { serial: what.serial ?? '', agentId: what.agentId ?? '' });
}

/** RevokeJoinToken (admin). */
export async function revokeJoinToken(address: string, material: TlsMaterial, tokenId: string, sharedToken?: string): Promise<void> {
  await call(address, material, sharedToken, (c) => c.revokeJoinToken as never, { tokenId });
}
