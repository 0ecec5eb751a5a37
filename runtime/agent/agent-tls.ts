/**
 * The agent's credential (issue 14): joining the grid with a join token (the key is made here and
 * never leaves the agent; the master's CA is pinned by its hash), keeping the certificate in
 * `<data_path>/.agent/tls` (0600), and renewing it at half its life without a restart.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeCredentialDir } from '../common/pki/credential-dir.js';
import { join } from 'node:path';
import { fetchPinnedCa, joinGrid, renewCertificate } from '../../client/index.js';
import { TlsSource, type TlsMaterial } from '../../client/transport.js';
import { certNotAfter, createCsr, newPrivateKey, newPrivateKeyAsync } from '../common/pki/certs.js';
import type { Logger } from '../common/logger.js';
import { RuntimeError } from '../errors.js';

/** Where the agent keeps its credential. */
export function agentTlsDir(dataPath: string): string {
  return join(dataPath, '.agent', 'tls');
}

/** True when the agent holds a credential (it then speaks TLS only). */
export function hasAgentCredential(dataPath: string): boolean {
  return existsSync(join(agentTlsDir(dataPath), 'cert.pem'));
}

/** The agent's credential, or undefined before it joined. */
export function loadAgentCredential(dataPath: string): TlsMaterial | undefined {
  if (!hasAgentCredential(dataPath)) return undefined;
  const dir = agentTlsDir(dataPath);
  return {
    caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    certPem: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    keyPem: readFileSync(join(dir, 'key.pem'), 'utf8'),
  };
}

/** Writes the credential, each file 0600 and whole. */
export function saveAgentCredential(dataPath: string, m: Required<TlsMaterial>): void {
  writeCredentialDir(agentTlsDir(dataPath), m);
}

/** What `--join` needs. */
export interface JoinRequest {
  readonly master: string;
  readonly token: string;
  readonly caHash: string | undefined;
  readonly agentId: string;
  readonly dataPath: string;
}

/**
 * Joins the grid: pins the master's CA by hash, sends a CSR for a key made here, stores the
 * certificate bound to the agent id.
 * @throws RuntimeError INVALID_ARGUMENT naming `--ca-hash` when it is missing; the client layer's
 * errors when the master refuses.
 */
export async function joinAsAgent(req: JoinRequest): Promise<Required<TlsMaterial>> {
  if (req.caHash === undefined) throw new RuntimeError('INVALID_ARGUMENT', '--ca-hash: is required with --join (printed by `sutra-grid token create`)', { field: '--ca-hash' });
  const pinned = await fetchPinnedCa(req.master, req.caHash);
  const keyPem = newPrivateKey();
  const joined = await joinGrid(req.master, pinned, req.token, req.agentId, createCsr(keyPem, req.agentId));
  const material = { caPem: pinned, certPem: joined.certPem, keyPem };
  saveAgentCredential(req.dataPath, material);
  return material;
}

/**
 * Renews the agent's certificate at half its remaining life, for as long as it runs; new
 * connections (to and from the master) use the new one. A failed renewal is retried in a minute.
 */
export class CertificateRenewal {
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    private readonly source: TlsSource,
    private readonly master: string,
    private readonly dataPath: string,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  /** Renews now. */
  async renew(): Promise<void> {
    // Off the event loop: a stalled agent misses heartbeats, and its leaders' write leases lapse.
    const keyPem = await newPrivateKeyAsync();
    const current = this.source.material;
    const renewed = await renewCertificate(this.master, current, createCsr(keyPem, 'agent'));
    const material = { caPem: renewed.caPem, certPem: renewed.certPem, keyPem };
    saveAgentCredential(this.dataPath, material);
    this.source.update(material);
  }

  private schedule(delayMs?: number): void {
    if (this.#stopped) return;
    const certPem = this.source.material.certPem;
    const left = certPem === undefined ? 60_000 : certNotAfter(certPem).getTime() - Date.now();
    const wait = delayMs ?? Math.max(1000, Math.floor(left / 2));
    this.#timer = setTimeout(() => {
      this.renew().then(
        () => {
          this.logger.info('agent certificate renewed');
          this.schedule();
        },
        (err: unknown) => {
          this.logger.warn({ err: (err as Error).message }, 'certificate renewal failed; retrying in 60 s');
          this.schedule(Math.min(60_000, Math.max(1000, Math.floor(left / 4))));
        },
      );
    }, wait);
    this.#timer.unref();
  }
}
