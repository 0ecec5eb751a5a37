/**
 * Join tokens and revocations, kept in `<data-dir>/pki/credentials.json` (0600). A token is stored
 * only as the SHA-256 of its secret: the file, and every log line, never holds a usable token.
 * Join tokens are single use and expire. API tokens (`token create --api`) are bearer tokens of the
 * HTTP API: used again and again until they expire or are revoked, never usable to join.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { RuntimeError } from '../../errors.js';
import type { GridIdentity, GridRole } from '../../../client/transport.js';
import { pkiPath, writePrivate } from './pki-files.js';

interface TokenRecord {
  readonly id: string;
  readonly sha256: string;
  readonly role: GridRole;
  readonly expiresAtMs: number;
  /** An API token (reusable bearer token of the HTTP API), not a join token. */
  readonly api?: boolean;
}

interface State {
  tokens: TokenRecord[];
  revokedSerials: string[];
  revokedAgents: string[];
  /**
   * Serial → identity of every certificate issued (so an agent's revocation reaches all its
   * serials), and for a node certificate the agent it was issued to (`by`).
   */
  issued: Record<string, GridIdentity & { by?: string }>;
}

/** The most revoked node serials sent to agents on every beat (the newest are kept). */
export const MAX_REVOKED_NODE_SERIALS = 1024;

/** A new join token: the secret is shown once, to whoever asked for it. */
export interface NewJoinToken {
  readonly token: string;
  readonly id: string;
  readonly role: GridRole;
  readonly expiresAtMs: number;
}

const TOKEN = /^sgj\.([0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/;
const API_TOKEN = /^sga\.([0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The master's join tokens and revocations. */
export class CredentialRegistry {
  readonly #path: string;
  readonly #state: State;
  readonly #now: () => number;
  #revokedNodes: readonly string[] | undefined;

  constructor(dataDir: string, now: () => number = Date.now) {
    this.#path = pkiPath(dataDir, 'credentials.json');
    this.#now = now;
    this.#state = existsSync(this.#path)
      ? (JSON.parse(readFileSync(this.#path, 'utf8')) as State)
      : { tokens: [], revokedSerials: [], revokedAgents: [], issued: {} };
  }

  /** A one-time join token for `role` (or, with `api`, a reusable API token), valid `ttlMs`. */
  createToken(role: GridRole, ttlMs: number, api = false): NewJoinToken {
    const id = randomBytes(6).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const expiresAtMs = this.#now() + ttlMs;
    this.#state.tokens = this.#state.tokens.filter((t) => t.expiresAtMs > this.#now());
    this.#state.tokens.push({ id, sha256: sha256(secret).toString('hex'), role, expiresAtMs, ...(api ? { api: true } : {}) });
    this.save();
    return { token: `${api ? 'sga' : 'sgj'}.${id}.${secret}`, id, role, expiresAtMs };
  }

  /**
   * Who an API token is: its role, and `token:<id>` as name; undefined for anything else
   * (malformed, unknown, expired, revoked, or a join token). Checked on every HTTP request.
   */
  apiTokenIdentity(token: string): GridIdentity | undefined {
    const m = API_TOKEN.exec(token);
    if (!m) return undefined;
    const record = this.#state.tokens.find((t) => t.id === m[1] && t.api === true);
    if (record === undefined || !timingSafeEqual(Buffer.from(record.sha256, 'hex'), sha256(m[2]!))) return undefined;
    if (record.expiresAtMs <= this.#now()) return undefined;
    return { role: record.role, name: `token:${record.id}` };
  }

  /**
   * Uses up a token: its role, once.
   * @throws RuntimeError UNAUTHENTICATED for a malformed, unknown, used, revoked or expired token
   * (one message for all, so a caller learns nothing about which tokens exist).
   */
  consumeToken(token: string): GridRole {
    const refused = new RuntimeError('UNAUTHENTICATED', 'join token is invalid, expired, revoked or already used', { field: 'token' });
    const m = TOKEN.exec(token);
    if (!m) throw refused;
    const record = this.#state.tokens.find((t) => t.id === m[1] && t.api !== true);
    if (record === undefined || !timingSafeEqual(Buffer.from(record.sha256, 'hex'), sha256(m[2]!))) throw refused;
    this.#state.tokens = this.#state.tokens.filter((t) => t.id !== record.id);
    this.save();
    if (record.expiresAtMs <= this.#now()) throw refused;
    return record.role;
  }

  /** Drops an unused join token, or an API token. @returns whether it existed. */
  revokeToken(id: string): boolean {
    const before = this.#state.tokens.length;
    this.#state.tokens = this.#state.tokens.filter((t) => t.id !== id);
    this.save();
    return this.#state.tokens.length !== before;
  }

  /**
   * Records a certificate issued (a node's with the agent `by` that asked for it); a join as an
   * agent lifts that agent id's revocation.
   */
  recordIssued(serial: string, identity: GridIdentity, fromJoin: boolean, by?: string): void {
    this.#state.issued[serial.toUpperCase()] = by !== undefined ? { ...identity, by } : identity;
    if (fromJoin && identity.role === 'agent') this.#state.revokedAgents = this.#state.revokedAgents.filter((a) => a !== identity.name);
    this.save();
  }

  /** Revokes one serial, or every certificate of an agent id. */
  revoke(what: { serial?: string; agentId?: string }): void {
    if (what.serial !== undefined) this.#state.revokedSerials.push(what.serial.toUpperCase());
    if (what.agentId !== undefined) {
      this.#state.revokedAgents.push(what.agentId);
      // The agent's own certificates, and those of the nodes it was given: its nodes' peers refuse them.
      for (const [serial, id] of Object.entries(this.#state.issued)) {
        if ((id.role === 'agent' && id.name === what.agentId) || (id.role === 'node' && id.by === what.agentId)) this.#state.revokedSerials.push(serial);
      }
    }
    this.#state.revokedSerials = [...new Set(this.#state.revokedSerials)];
    this.#revokedNodes = undefined;
    this.save();
  }

  /** Revoked serials of node certificates, newest last, at most {@link MAX_REVOKED_NODE_SERIALS}. */
  revokedNodeSerials(): readonly string[] {
    this.#revokedNodes ??= this.#state.revokedSerials.filter((s) => this.#state.issued[s]?.role === 'node').slice(-MAX_REVOKED_NODE_SERIALS);
    return this.#revokedNodes;
  }

  /** True for a revoked serial, or any certificate of a revoked agent id. */
  isRevoked(serial: string, identity: GridIdentity): boolean {
    if (this.#state.revokedSerials.includes(serial.toUpperCase())) return true;
    return identity.role === 'agent' && this.#state.revokedAgents.includes(identity.name);
  }

  private save(): void {
    writePrivate(this.#path, JSON.stringify(this.#state, null, 2));
  }
}
