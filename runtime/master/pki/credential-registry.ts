/**
 * Join tokens, API tokens and revocations, over a {@link CredentialStore} (a file for a lone master,
 * etcd for several). A token is stored only as the SHA-256 of its secret: the store, and every log
 * line, never holds a usable token. Join tokens are single use and expire. API tokens (`token create
 * --api`) are bearer tokens of the HTTP API: used again and again until they expire or are revoked,
 * never usable to join.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { RuntimeError } from '../../errors.js';
import type { GridIdentity, GridRole } from '../../../client/transport.js';
import type { CredentialChange, CredentialStore, TokenRecord } from './credential-store.js';

/** A new join token: the secret is shown once, to whoever asked for it. */
export interface NewJoinToken {
  readonly token: string;
  readonly id: string;
  readonly role: GridRole;
  readonly expiresAtMs: number;
}

/**
 * Most tokens (join and API, unused and unexpired) a grid keeps: each is a record every master
 * holds in memory. With several masters the count is each master's view, so two creating at the
 * same instant may pass it by one each.
 */
export const MAX_OUTSTANDING_TOKENS = 1000;

/** The most revoked node serials sent to agents on every beat (the ones expiring last are kept). */
export const MAX_REVOKED_NODE_SERIALS = 1024;

/** How long the list of revoked node serials is reused (ms): it is read on every heartbeat answer. */
const NODE_LIST_MS = 1000;

const TOKEN = /^sgj\.([0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/;
const API_TOKEN = /^sga\.([0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function matches(record: TokenRecord, secret: string): boolean {
  return timingSafeEqual(Buffer.from(record.sha256, 'hex'), sha256(secret));
}

/** Options of {@link CredentialRegistry}. */
export interface CredentialRegistryOptions {
  /**
   * The longest life of a certificate the master issues: an agent id's revocation is kept this
   * long past the last certificate known of it (one issued meanwhile elsewhere is covered too).
   */
  readonly certTtlMs: number;
  readonly now?: () => number;
}

/** The grid's join tokens, API tokens and revocations. */
export class CredentialRegistry {
  readonly #store: CredentialStore;
  readonly #now: () => number;
  readonly #certTtlMs: number;
  #nodeList: { atMs: number; serials: readonly string[] } | undefined;

  constructor(store: CredentialStore, o: CredentialRegistryOptions) {
    this.#store = store;
    this.#now = o.now ?? Date.now;
    this.#certTtlMs = o.certTtlMs;
  }

  /** The store underneath (the master opens and closes it). */
  get store(): CredentialStore {
    return this.#store;
  }

  /**
   * A one-time join token for `role` (or, with `api`, a reusable API token), valid `ttlMs`.
   * @throws RuntimeError CAPACITY_EXCEEDED (RESOURCE_EXHAUSTED) naming `tokens` past
   * {@link MAX_OUTSTANDING_TOKENS}; QUORUM_UNAVAILABLE when etcd does not answer.
   */
  async createToken(role: GridRole, ttlMs: number, api = false): Promise<NewJoinToken> {
    const now = this.#now();
    let outstanding = 0;
    for (const [, t] of this.#store.entries('tokens')) if (t.expiresAtMs > now) outstanding++;
    if (outstanding >= MAX_OUTSTANDING_TOKENS) {
      throw new RuntimeError(
        'CAPACITY_EXCEEDED',
        `tokens: ${outstanding} tokens are outstanding, at most ${MAX_OUTSTANDING_TOKENS}; revoke unused ones (token revoke) or let them expire; none was created`,
        { field: 'tokens', limit: MAX_OUTSTANDING_TOKENS },
      );
    }
    const id = randomBytes(6).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const expiresAtMs = now + ttlMs;
    await this.#store.write([{ kind: 'tokens', key: id, value: { sha256: sha256(secret).toString('hex'), role, expiresAtMs, ...(api ? { api: true } : {}) } }]);
    return { token: `${api ? 'sga' : 'sgj'}.${id}.${secret}`, id, role, expiresAtMs };
  }

  /**
   * Who an API token is: its role, and `token:<id>` as name; undefined for anything else
   * (malformed, unknown, expired, revoked, or a join token). Checked on every HTTP request.
   */
  apiTokenIdentity(token: string): GridIdentity | undefined {
    const m = API_TOKEN.exec(token);
    if (!m) return undefined;
    const record = this.#store.get('tokens', m[1]!);
    if (record === undefined || record.api !== true || !matches(record, m[2]!)) return undefined;
    if (record.expiresAtMs <= this.#now()) return undefined;
    return { role: record.role, name: `token:${m[1]!}` };
  }

  /**
   * Uses up a join token: its role, once (of two masters given the same token at once, one).
   * @throws RuntimeError UNAUTHENTICATED for a malformed, unknown, used, revoked or expired token
   * (one message for all, so a caller learns nothing about which tokens exist).
   */
  async consumeToken(token: string): Promise<GridRole> {
    const refused = new RuntimeError('UNAUTHENTICATED', 'join token is invalid, expired, revoked or already used', { field: 'token' });
    const m = TOKEN.exec(token);
    if (!m) throw refused;
    // A wrong secret leaves the token alone: knowing an id is not enough to use it up.
    const record = await this.#store.take('tokens', m[1]!, (t) => t.api !== true && matches(t, m[2]!));
    if (record === undefined || record.expiresAtMs <= this.#now()) throw refused;
    return record.role;
  }

  /** Drops an unused join token, or an API token. @returns whether it existed. */
  async revokeToken(id: string): Promise<boolean> {
    return (await this.#store.take('tokens', id, () => true)) !== undefined;
  }

  /**
   * Records a certificate issued, until `notAfterMs` (a node's with the agent `by` that asked for
   * it); a join as an agent lifts that agent id's revocation.
   */
  async recordIssued(serial: string, identity: GridIdentity, notAfterMs: number, fromJoin: boolean, by?: string): Promise<void> {
    const changes: CredentialChange[] = [{ kind: 'issued', key: serial.toUpperCase(), value: { role: identity.role, name: identity.name, expiresAtMs: notAfterMs, ...(by !== undefined ? { by } : {}) } }];
    if (fromJoin && identity.role === 'agent' && this.#store.get('revokedAgents', identity.name) !== undefined) changes.push({ kind: 'revokedAgents', key: identity.name });
    await this.#store.write(changes);
  }

  /**
   * Revokes one serial, or every certificate of an agent id. In force at this master when it
   * resolves (at other masters once their watch delivers it).
   */
  async revoke(what: { serial?: string | undefined; agentId?: string | undefined }): Promise<void> {
    const now = this.#now();
    const changes: CredentialChange[] = [];
    if (what.serial !== undefined) {
      const serial = what.serial.toUpperCase();
      // A serial never recorded (issued by an older master, or elsewhere) is kept as long as any certificate may live.
      const expiresAtMs = this.#store.get('issued', serial)?.expiresAtMs ?? now + this.#certTtlMs;
      changes.push({ kind: 'revokedSerials', key: serial, value: { expiresAtMs } });
    }
    if (what.agentId !== undefined) {
      let until = now + this.#certTtlMs;
      const serials: CredentialChange[] = [];
      // The agent's own certificates, and those of the nodes it was given: their peers refuse them.
      for (const [serial, id] of this.#store.entries('issued')) {
        const its = (id.role === 'agent' && id.name === what.agentId) || (id.role === 'node' && id.by === what.agentId);
        if (!its || id.expiresAtMs <= now) continue;
        serials.push({ kind: 'revokedSerials', key: serial, value: { expiresAtMs: id.expiresAtMs } });
        until = Math.max(until, id.expiresAtMs);
      }
      // The id first: it refuses every certificate of the agent at once, even should a long list of
      // serials (kept so that a new join does not bring old certificates back) take several writes.
      changes.push({ kind: 'revokedAgents', key: what.agentId, value: { expiresAtMs: until } }, ...serials);
    }
    await this.#store.write(changes);
    this.#nodeList = undefined;
  }

  /**
   * Revoked serials of node certificates not yet expired, at most {@link MAX_REVOKED_NODE_SERIALS}
   * (those expiring last), for the agents to hand to their nodes. Reused for a second: it goes out
   * with every heartbeat answer, and a revocation made at another master arrives by its watch.
   */
  revokedNodeSerials(): readonly string[] {
    const now = this.#now();
    if (this.#nodeList !== undefined && now - this.#nodeList.atMs < NODE_LIST_MS) return this.#nodeList.serials;
    const found: Array<[string, number]> = [];
    for (const [serial, r] of this.#store.entries('revokedSerials')) {
      if (r.expiresAtMs > now && this.#store.get('issued', serial)?.role === 'node') found.push([serial, r.expiresAtMs]);
    }
    found.sort((a, b) => a[1] - b[1]);
    this.#nodeList = { atMs: now, serials: found.slice(-MAX_REVOKED_NODE_SERIALS).map(([s]) => s) };
    return this.#nodeList.serials;
  }

  /** True for a revoked serial, or any certificate of a revoked agent id. */
  isRevoked(serial: string, identity: GridIdentity): boolean {
    if (this.#store.get('revokedSerials', serial.toUpperCase()) !== undefined) return true;
    if (identity.role !== 'agent') return false;
    const agent = this.#store.get('revokedAgents', identity.name);
    return agent !== undefined && agent.expiresAtMs > this.#now();
  }
}
