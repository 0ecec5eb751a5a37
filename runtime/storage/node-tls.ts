/**
 * A storage node's mutual TLS (issue 14): its `node` certificate, key and the grid CA, read from a
 * directory its agent writes (`--tls-dir`: `ca.pem`, `cert.pem`, `key.pem`, 0600; the contents never
 * travel in argv or env). The files are watched: a certificate the agent renews is taken without a
 * restart, and new connections use it. The node serves only clients with a certificate of the grid
 * CA, and dials its leader expecting a `node` certificate. `revoked.txt` (written by the agent from
 * the master's answers: one hex serial per line) lists certificates refused at once, such as those
 * of a revoked agent's nodes.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import { clientChannelOptions, insecureCredentials, TLS_CHANNEL_OPTIONS, TlsSource, tlsChannelCredentials, type TlsMaterial } from '../../client/transport.js';
import { ConfigError } from '../errors.js';

/** How often the node looks at its certificate file (ms): well inside any certificate's half life. */
export const CERT_POLL_MS = 1000;

/** The file of revoked serials in the credential directory, and the most of them read. */
export const REVOKED_FILE = 'revoked.txt';
const MAX_REVOKED = 1024;

/** How a node dials another node: credentials and channel options. */
export interface NodeDialer {
  readonly credentials: ChannelCredentials;
  readonly options: ChannelOptions;
  /**
   * Bumped when the certificate is renewed: a holder of a long-lived channel dials again, since the
   * peer checks the expiry of the certificate a connection was opened with on every call.
   */
  readonly version?: () => number;
}

/** Plaintext dialing (a node without TLS, on loopback). */
export const PLAINTEXT_DIALER: NodeDialer = { credentials: insecureCredentials, options: clientChannelOptions() };

/** Reads the three files; undefined while the key and certificate do not match (a write half done). */
function readMaterial(dir: string): Required<TlsMaterial> | undefined {
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
  const material = { caPem: read('ca.pem'), certPem: read('cert.pem'), keyPem: read('key.pem') };
  return new X509Certificate(material.certPem).checkPrivateKey(createPrivateKey(material.keyPem)) ? material : undefined;
}

/** The node's credential, kept current from its directory. */
export class NodeTlsFiles {
  readonly source: TlsSource;
  #watching = false;
  #revoked: ReadonlySet<string> = new Set();

  private constructor(
    readonly dir: string,
    material: Required<TlsMaterial>,
    private readonly log: (line: string) => void,
  ) {
    this.source = new TlsSource(material);
    this.reloadRevoked();
  }

  /** True for a certificate serial (hex) the agent listed as revoked. */
  isRevoked(serial: string): boolean {
    return this.#revoked.has(serial.toUpperCase());
  }

  /** Reads `revoked.txt` (absent: none revoked); a file being replaced is read at the next poll. */
  reloadRevoked(): void {
    let text: string;
    try {
      text = readFileSync(join(this.dir, REVOKED_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') this.#revoked = new Set();
      return;
    }
    const serials = text.split('\n').map((l) => l.trim().toUpperCase()).filter((l) => /^[0-9A-F]{2,64}$/.test(l)).slice(-MAX_REVOKED);
    if (serials.length !== this.#revoked.size || serials.some((s) => !this.#revoked.has(s))) {
      this.#revoked = new Set(serials);
      this.log(`revoked certificates: ${serials.length}`);
    }
  }

  /**
   * Reads the credential in `dir`.
   * @throws ConfigError naming `--tls-dir` when a file is missing or the key is not the certificate's.
   */
  static open(dir: string, log: (line: string) => void): NodeTlsFiles {
    let material: Required<TlsMaterial> | undefined;
    try {
      material = readMaterial(dir);
    } catch (err) {
      throw new ConfigError('--tls-dir', `cannot read ca.pem, cert.pem and key.pem in ${dir}: ${(err as Error).message}`, { cause: err });
    }
    if (material === undefined) throw new ConfigError('--tls-dir', `${dir}: key.pem is not the key of cert.pem`);
    return new NodeTlsFiles(dir, material, log);
  }

  /** Watches the certificate: a renewed one (with its key) replaces the one in force. */
  watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    watchFile(join(this.dir, 'cert.pem'), { interval: CERT_POLL_MS, persistent: false }, () => this.reload());
    // The key is written before the certificate, but a poll may see the key alone: look again when it changes.
    watchFile(join(this.dir, 'key.pem'), { interval: CERT_POLL_MS, persistent: false }, () => this.reload());
    watchFile(join(this.dir, REVOKED_FILE), { interval: CERT_POLL_MS, persistent: false }, () => this.reloadRevoked());
  }

  /** Takes the files' credential when it differs from the one in force and its key matches. */
  reload(): void {
    let next: Required<TlsMaterial> | undefined;
    try {
      next = readMaterial(this.dir);
    } catch {
      return; // mid-write (a file renamed away for a moment): the next poll sees it whole
    }
    const cur = this.source.material;
    if (next === undefined || (next.certPem === cur.certPem && next.keyPem === cur.keyPem && next.caPem === cur.caPem)) return;
    this.source.update(next);
    this.log(`node certificate renewed (valid until ${new X509Certificate(next.certPem).validTo})`);
  }

  /** How this node dials another node (its leader): presenting its certificate, expecting a `node` one. */
  dialer(): NodeDialer {
    return { credentials: tlsChannelCredentials(this.source, { role: 'node' }), options: clientChannelOptions(TLS_CHANNEL_OPTIONS), version: () => this.source.version };
  }

  close(): void {
    if (!this.#watching) return;
    this.#watching = false;
    unwatchFile(join(this.dir, 'cert.pem'));
    unwatchFile(join(this.dir, 'key.pem'));
    unwatchFile(join(this.dir, REVOKED_FILE));
  }
}
