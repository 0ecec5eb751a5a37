/**
 * Mutual TLS for the grid's channels: the CA to trust, this side's certificate and key, and a
 * check that the peer's certificate names the identity expected (the master, or one agent id) in
 * place of a host name check, so an agent or master is found at any address yet no other
 * certificate of the grid can pass for it. Certificates can be replaced while channels live
 * (rotation): new connections use the newest.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { experimental, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { ConfigError } from '../errors/index.js';
import { identityFromAltNames, type GridIdentity, type GridRole } from './grid-identity.js';

/** PEM texts of a credential: the CA to trust, and this side's certificate and key (absent before a join). */
export interface TlsMaterial {
  readonly caPem: string;
  readonly certPem?: string | undefined;
  readonly keyPem?: string | undefined;
}

/**
 * Holds the current material and tells grpc-js when it changes: the certificate provider behind
 * every TLS channel and server of the grid.
 */
export class TlsSource implements experimental.CertificateProvider {
  #material: TlsMaterial;
  #version = 0;
  readonly #ca = new Set<experimental.CaCertificateUpdateListener>();
  readonly #identity = new Set<experimental.IdentityCertificateUpdateListener>();

  constructor(material: TlsMaterial) {
    this.#material = material;
  }

  /** The material in force. */
  get material(): TlsMaterial {
    return this.#material;
  }

  /** Bumped by every {@link update}: a holder of long-lived channels re-dials when it changes. */
  get version(): number {
    return this.#version;
  }

  /** Replaces the material; connections opened from now on use it (open ones keep theirs). */
  update(material: TlsMaterial): void {
    this.#material = material;
    this.#version++;
    for (const l of this.#ca) l({ caCertificate: Buffer.from(material.caPem) });
    const id = this.identityUpdate();
    for (const l of this.#identity) l(id);
  }

  addCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.#ca.add(listener);
    // Asynchronously: grpc-js' server registers its own watcher only after subscribing to the
    // provider, and would miss an answer given at once (nextTick still runs before any I/O).
    process.nextTick(() => {
      if (this.#ca.has(listener)) listener({ caCertificate: Buffer.from(this.#material.caPem) });
    });
  }

  removeCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.#ca.delete(listener);
  }

  addIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.#identity.add(listener);
    process.nextTick(() => {
      if (this.#identity.has(listener)) listener(this.identityUpdate());
    });
  }

  removeIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.#identity.delete(listener);
  }

  private identityUpdate(): experimental.IdentityCertificateUpdate | null {
    const { certPem, keyPem } = this.#material;
    return certPem !== undefined && keyPem !== undefined ? { certificate: Buffer.from(certPem), privateKey: Buffer.from(keyPem) } : null;
  }
}

/** Which server identity a client accepts: a role, and for an agent its id. */
export interface ExpectedPeer {
  readonly role: GridRole;
  readonly name?: string;
}

/** Node's `checkServerIdentity` for an expected grid identity (the host name is not what is checked). */
export function checkGridPeer(expected: ExpectedPeer): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    const id: GridIdentity | undefined = identityFromAltNames(cert.subjectaltname);
    if (id === undefined) return new Error('the server certificate carries no sutra-grid identity');
    if (id.role !== expected.role || (expected.name !== undefined && id.name !== expected.name)) {
      const want = expected.name !== undefined ? `${expected.role} ${expected.name}` : expected.role;
      return new Error(`the server certificate is ${id.role} ${id.name}, not the ${want} dialed`);
    }
    return undefined;
  };
}

/**
 * Channel credentials of a grid client: trusts `source`'s CA, presents its certificate (when it has
 * one), and accepts only a server whose certificate names `expected`.
 */
export function tlsChannelCredentials(source: TlsSource, expected: ExpectedPeer): ChannelCredentials {
  const hasIdentity = source.material.certPem !== undefined;
  return experimental.createCertificateProviderChannelCredentials(source, hasIdentity ? source : null, { checkServerIdentity: checkGridPeer(expected) });
}

/**
 * Channel options for a TLS channel: the name sent in SNI is a fixed one, since the peer is checked
 * by its grid identity rather than by the address dialed (an IP address is not a valid SNI name).
 */
export const TLS_CHANNEL_OPTIONS: ChannelOptions = { 'grpc.ssl_target_name_override': 'sutra-grid' };

/** Files of a client credential; `dir` holds `ca.pem`, `cert.pem`, `key.pem` unless each is named. */
export interface TlsFiles {
  readonly dir?: string | undefined;
  readonly ca?: string | undefined;
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
}

function readPem(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(flag, `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Reads a credential from files (`--tls-ca`, `--tls-cert`, `--tls-key`, or `--tls-dir`); undefined
 * when none is named.
 * @throws ConfigError naming the flag of a file that cannot be read, or a cert given without its key.
 */
export function loadTlsFiles(files: TlsFiles): TlsMaterial | undefined {
  const ca = files.ca ?? (files.dir !== undefined ? join(files.dir, 'ca.pem') : undefined);
  const cert = files.cert ?? (files.dir !== undefined ? join(files.dir, 'cert.pem') : undefined);
  const key = files.key ?? (files.dir !== undefined ? join(files.dir, 'key.pem') : undefined);
  if (ca === undefined && cert === undefined && key === undefined) return undefined;
  if (ca === undefined) throw new ConfigError('--tls-ca', 'is required with --tls-cert/--tls-key (the grid CA to trust)');
  if ((cert === undefined) !== (key === undefined)) throw new ConfigError(cert === undefined ? '--tls-cert' : '--tls-key', 'give --tls-cert and --tls-key together');
  return {
    caPem: readPem(ca, '--tls-ca'),
    certPem: cert !== undefined ? readPem(cert, '--tls-cert') : undefined,
    keyPem: key !== undefined ? readPem(key, '--tls-key') : undefined,
  };
}
