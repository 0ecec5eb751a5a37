/**
 * X.509 for the grid: keys come from Node's crypto; node-forge only builds, signs and reads
 * certificates and signing requests (Node cannot issue them).
 */
import { createHash, generateKeyPair, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import type forgeNs from 'node-forge';
import { RuntimeError } from '../../errors.js';
import { identityUri, type GridIdentity } from '../../../client/transport.js';

/**
 * node-forge is loaded on first use, not with this module: every agent imports this file (for its
 * CSRs), and forge's ~370 KB of source and the tables it builds at load were RSS of every idle
 * agent and plaintext master, which never join, renew or issue (issue 17). The bundler turns the
 * literal `require` into its lazy wrapper, so the bundles still carry forge (loading it from
 * node_modules file by file costs ~5 MB more RSS than the bundled copy); the tsc output, an ES
 * module without `require`, takes it through createRequire.
 */
let forgeModule: typeof forgeNs | undefined;
function loadForge(): typeof forgeNs {
  forgeModule ??= (typeof require === 'function' ? require('node-forge') : createRequire(import.meta.url)('node-forge')) as typeof forgeNs;
  return forgeModule;
}

/** A PEM private key and its certificate. */
export interface KeyAndCert {
  readonly keyPem: string;
  readonly certPem: string;
}

/** Longest CSR accepted, in characters (a 4096-bit RSA CSR is about 1.7 KB). */
export const MAX_CSR_CHARS = 16 * 1024;

/** A new RSA-2048 private key, PEM (PKCS#8). forge signs RSA only. */
export function newPrivateKey(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * {@link newPrivateKey} off the event loop (libuv's thread pool): a daemon renewing while it serves
 * must not stall for the prime search, which can take a second on a loaded host and would delay
 * its heartbeats past a write lease.
 */
export function newPrivateKeyAsync(): Promise<string> {
  return new Promise((resolve, reject) => {
    generateKeyPair('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }, (err, _pub, privateKey) =>
      err ? reject(err) : resolve(privateKey),
    );
  });
}

/** A positive, 16-byte serial in hex, never starting with a zero byte (Node prints it as forge wrote it). */
function newSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x3f) | 0x40;
  return b.toString('hex').toUpperCase();
}

/** A self-signed grid CA, valid `days` days. */
export function createCa(commonName: string, days = 3650): KeyAndCert {
  const forge = loadForge();
  const { pki } = forge;
  const keyPem = newPrivateKey();
  const key = pki.privateKeyFromPem(keyPem);
  const cert = pki.createCertificate();
  cert.publicKey = pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = newSerial();
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 5 * 60_000);
  cert.validity.notAfter = new Date(now + days * 86_400_000);
  const subject = [{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'sutra-grid' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key, forge.md.sha256.create());
  return { keyPem, certPem: pki.certificateToPem(cert) };
}

/** A certificate signing request for `key` (the key stays with its owner). */
export function createCsr(keyPem: string, commonName: string): string {
  const forge = loadForge();
  const { pki } = forge;
  const key = pki.privateKeyFromPem(keyPem);
  const csr = pki.createCertificationRequest();
  csr.publicKey = pki.setRsaPublicKey(key.n, key.e);
  csr.setSubject([{ name: 'commonName', value: commonName }]);
  csr.sign(key, forge.md.sha256.create());
  return pki.certificationRequestToPem(csr);
}

/** What a leaf certificate says besides its identity. */
export interface LeafOptions {
  /** Validity from now (ms); backdated 5 minutes for clock skew. */
  readonly ttlMs: number;
  /** IP addresses and DNS names for hostname checks by generic TLS clients. */
  readonly hosts?: readonly string[];
}

/** The public key of a PEM CSR, checked to be self-signed by it. */
function csrPublicKey(csrPem: string): forgeNs.pki.PublicKey {
  const { pki } = loadForge();
  if (csrPem.length > MAX_CSR_CHARS) throw new RuntimeError('INVALID_ARGUMENT', `csr: longer than ${MAX_CSR_CHARS} characters`, { field: 'csr' });
  let csr: ReturnType<typeof pki.certificationRequestFromPem>;
  try {
    csr = pki.certificationRequestFromPem(csrPem);
  } catch (err) {
    throw new RuntimeError('INVALID_ARGUMENT', `csr: not a PEM RSA certificate request (${(err as Error).message})`, { field: 'csr' });
  }
  let verified = false;
  try {
    verified = csr.verify();
  } catch {
    // forge throws on a signature that does not decrypt under the key ("Encryption block is invalid")
  }
  if (!verified || csr.publicKey === null) throw new RuntimeError('INVALID_ARGUMENT', 'csr: its signature does not match its key', { field: 'csr' });
  return csr.publicKey;
}

/**
 * Signs a leaf certificate for `identity` over the key of `csrPem`. Only the key is taken from the
 * request: the subject is the one the CA decides.
 * @throws RuntimeError INVALID_ARGUMENT naming `csr` when it is malformed or not self-signed.
 */
export function issueLeaf(ca: KeyAndCert, csrPem: string, identity: GridIdentity, opts: LeafOptions): { certPem: string; serial: string; notAfter: Date } {
  const forge = loadForge();
  const { pki } = forge;
  const publicKey = csrPublicKey(csrPem);
  const caKey = pki.privateKeyFromPem(ca.keyPem);
  const caCert = pki.certificateFromPem(ca.certPem);
  const cert = pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = newSerial();
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 5 * 60_000);
  cert.validity.notAfter = new Date(now + opts.ttlMs);
  cert.setSubject([{ name: 'commonName', value: identity.name }, { name: 'organizationalUnitName', value: identity.role }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames: Array<{ type: number; value?: string; ip?: string }> = [{ type: 6, value: identityUri(identity) }];
  for (const host of opts.hosts ?? []) {
    altNames.push(/^[\d.]+$/.test(host) || host.includes(':') ? { type: 7, ip: host.replace(/^\[|\]$/g, '') } : { type: 2, value: host });
  }
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: pki.certificateToPem(cert), serial: cert.serialNumber.toUpperCase(), notAfter: cert.validity.notAfter };
}

/** Issues key and certificate in one step (the holder's key is made here: the master's own, tests'). */
export function issueKeyAndCert(ca: KeyAndCert, identity: GridIdentity, opts: LeafOptions): KeyAndCert & { serial: string; notAfter: Date } {
  const keyPem = newPrivateKey();
  const leaf = issueLeaf(ca, createCsr(keyPem, identity.name), identity, opts);
  return { keyPem, ...leaf };
}

/** `sha256:<hex>` of the CA certificate's DER: what `--ca-hash` pins. */
export function caHash(certPem: string): string {
  const der = new X509Certificate(certPem).raw;
  return `sha256:${createHash('sha256').update(der).digest('hex')}`;
}

/** The expiry of a PEM certificate. */
export function certNotAfter(certPem: string): Date {
  return new Date(new X509Certificate(certPem).validTo);
}
