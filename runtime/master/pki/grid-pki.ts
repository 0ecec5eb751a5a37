/**
 * The master's side of the grid's mutual TLS (issue 14): the CA, the master's own short-lived
 * certificate (renewed at half its life, without a restart: new connections take the new one),
 * join tokens, certificates for joiners and renewals, and revocation checked on every call.
 */
import { caHash, issueKeyAndCert, issueLeaf, type KeyAndCert } from '../../common/pki/certs.js';
import { gridGuard, type Caller, type CallGuard } from '../../common/call-guard.js';
import { isGridRole, isIdentityName, TlsSource, type GridIdentity, type GridRole } from '../../../client/transport.js';
import { RuntimeError } from '../../errors.js';
import { CredentialRegistry, type NewJoinToken } from './credential-registry.js';
import type { CredentialStore } from './credential-store.js';
import { FileCredentialStore } from './file-credential-store.js';
import { loadOrCreateCa, type GivenCa } from './pki-files.js';

/** Longest join token life. */
export const MAX_JOIN_TOKEN_TTL_MS = 7 * 86_400_000;
/** Join token life when none is asked. */
export const DEFAULT_JOIN_TOKEN_TTL_MS = 3_600_000;
/** Longest API token life: a dashboard's token is kept longer than a join token, but not forever. */
export const MAX_API_TOKEN_TTL_MS = 90 * 86_400_000;
/** API token life when none is asked. */
export const DEFAULT_API_TOKEN_TTL_MS = 7 * 86_400_000;

export interface GridPkiOptions {
  readonly dataDir: string;
  readonly masterId: string;
  /** Hosts (IPs, names) put in the master certificate for clients that check host names. */
  readonly hosts: readonly string[];
  /** Life of every certificate issued (the master's own included). */
  readonly certTtlMs: number;
  readonly givenCa?: GivenCa | undefined;
  /**
   * Where tokens and revocations are kept: etcd when masters share it (opened by the caller).
   * @default the file `<dataDir>/pki/credentials.json`
   */
  readonly credentials?: CredentialStore | undefined;
  readonly now?: () => number;
}

/** The master's CA, credentials and revocations. */
export class GridPki {
  readonly ca: KeyAndCert;
  readonly registry: CredentialRegistry;
  /** The master's certificate and the CA, for its server and its calls to agents. */
  readonly source: TlsSource;
  /** `sha256:…` of the CA: what joiners pin. */
  readonly caHash: string;
  readonly #opts: GridPkiOptions;
  #timer: NodeJS.Timeout | undefined;
  #rotations = 0;

  constructor(opts: GridPkiOptions) {
    this.#opts = opts;
    this.ca = loadOrCreateCa(opts.dataDir, opts.givenCa);
    this.caHash = caHash(this.ca.certPem);
    const now = opts.now ?? Date.now;
    const store = opts.credentials ?? new FileCredentialStore(opts.dataDir, { legacyKeepMs: opts.certTtlMs, now });
    this.registry = new CredentialRegistry(store, { certTtlMs: opts.certTtlMs, now });
    this.source = new TlsSource(this.ownMaterial());
  }

  /** Renews the master's certificate every half life from now on. */
  startRotation(onRotated?: () => void): void {
    this.#timer = setInterval(() => {
      this.rotate();
      onRotated?.();
    }, Math.max(1000, Math.floor(this.#opts.certTtlMs / 2)));
    this.#timer.unref();
  }

  /** Issues the master a fresh certificate now; new connections use it. */
  rotate(): void {
    this.source.update(this.ownMaterial());
    this.#rotations++;
  }

  /** How many times the master's certificate was renewed. */
  get rotations(): number {
    return this.#rotations;
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The call guard of the master's services: certificates, the legacy token, revocations. */
  guard(token: string | undefined): CallGuard {
    return gridGuard({ token, tls: true, isRevoked: (serial, id) => this.registry.isRevoked(serial, id), now: this.#opts.now });
  }

  /**
   * A one-time join token, or with `api` a reusable bearer token of the HTTP API (no agent role:
   * agents have no HTTP routes).
   * @throws RuntimeError INVALID_ARGUMENT naming `role` or `ttl_ms`; CAPACITY_EXCEEDED naming
   * `tokens` when too many are outstanding.
   */
  async createJoinToken(role: string, ttlMs: number, api = false): Promise<NewJoinToken> {
    if (!isGridRole(role) || role === 'master' || role === 'node' || (api && role === 'agent')) {
      const allowed = api ? 'reader, operator or admin' : 'agent, reader, operator or admin';
      throw new RuntimeError('INVALID_ARGUMENT', `role: must be ${allowed}, got ${JSON.stringify(role.slice(0, 32))}`, { field: 'role' });
    }
    const ttl = ttlMs === 0 ? (api ? DEFAULT_API_TOKEN_TTL_MS : DEFAULT_JOIN_TOKEN_TTL_MS) : ttlMs;
    const max = api ? MAX_API_TOKEN_TTL_MS : MAX_JOIN_TOKEN_TTL_MS;
    if (!Number.isInteger(ttl) || ttl < 1000 || ttl > max) {
      throw new RuntimeError('INVALID_ARGUMENT', `ttl_ms: must be 1 s to ${max / 86_400_000} days, got ${ttlMs}`, { field: 'ttl_ms' });
    }
    return await this.registry.createToken(role, ttl, api);
  }

  /**
   * A certificate for the CSR's key, named `name` with the token's role; uses up the token.
   * @throws RuntimeError INVALID_ARGUMENT naming `name` or `csr`; UNAUTHENTICATED for a bad token.
   */
  async join(token: string, name: string, csrPem: string): Promise<{ certPem: string; caPem: string; role: GridRole }> {
    if (!isIdentityName(name)) throw new RuntimeError('INVALID_ARGUMENT', `name: must be 1-63 letters, digits, ".", "_" or "-"`, { field: 'name' });
    const role = await this.registry.consumeToken(token);
    const identity: GridIdentity = { role, name };
    const leaf = issueLeaf(this.ca, csrPem, identity, { ttlMs: this.#opts.certTtlMs });
    await this.registry.recordIssued(leaf.serial, identity, leaf.notAfter.getTime(), true);
    return { certPem: leaf.certPem, caPem: this.ca.certPem, role };
  }

  /** A fresh certificate with the caller's identity. */
  async renew(caller: Caller, csrPem: string): Promise<{ certPem: string; caPem: string }> {
    if (caller.legacy) throw new RuntimeError('INVALID_ARGUMENT', 'RenewCertificate: the shared token has no certificate to renew', { field: 'csr_pem' });
    const identity: GridIdentity = { role: caller.role, name: caller.name };
    const leaf = issueLeaf(this.ca, csrPem, identity, { ttlMs: this.#opts.certTtlMs });
    await this.registry.recordIssued(leaf.serial, identity, leaf.notAfter.getTime(), false);
    return { certPem: leaf.certPem, caPem: this.ca.certPem };
  }

  /**
   * A `node` certificate for storage node `nodeId`, asked by the agent that runs it (the key stays
   * with the agent; only the CSR travels). A node certificate may only replicate (rpc-roles.ts).
   * @throws RuntimeError INVALID_ARGUMENT naming `node_id` or `csr_pem`.
   */
  async issueNode(nodeId: string, csrPem: string, agentId?: string): Promise<{ certPem: string; caPem: string }> {
    if (!isIdentityName(nodeId)) throw new RuntimeError('INVALID_ARGUMENT', 'node_id: must be 1-63 letters, digits, ".", "_" or "-"', { field: 'node_id' });
    const identity: GridIdentity = { role: 'node', name: nodeId };
    const leaf = issueLeaf(this.ca, csrPem, identity, { ttlMs: this.#opts.certTtlMs });
    await this.registry.recordIssued(leaf.serial, identity, leaf.notAfter.getTime(), false, agentId);
    return { certPem: leaf.certPem, caPem: this.ca.certPem };
  }

  /** Issues key and certificate here (the operator's offline `cert issue`, tests). */
  async issueLocal(identity: GridIdentity, ttlMs = this.#opts.certTtlMs): Promise<KeyAndCert & { serial: string }> {
    const leaf = issueKeyAndCert(this.ca, identity, { ttlMs });
    await this.registry.recordIssued(leaf.serial, identity, leaf.notAfter.getTime(), false);
    return leaf;
  }

  private ownMaterial(): { caPem: string; certPem: string; keyPem: string } {
    const own = issueKeyAndCert(this.ca, { role: 'master', name: this.#opts.masterId }, { ttlMs: this.#opts.certTtlMs, hosts: this.#opts.hosts });
    // The chain carries the CA so that a joiner can fetch it and check it against its pinned hash.
    return { caPem: this.ca.certPem, certPem: own.certPem + this.ca.certPem, keyPem: own.keyPem };
  }
}
