/**
 * Where a master keeps its credentials (issue 14): join and API tokens, the identity of every
 * certificate issued, and revocations. A lone master keeps them in a file of its data dir
 * (file-credential-store.ts); masters that share etcd keep them there (store/etcd-credential-store.ts),
 * so a token made at one master works at another and a revocation at one reaches all.
 *
 * Reads are synchronous, from a view in memory: a revocation or an API token is checked on every
 * call, and must cost no round trip. Writes go to the backing store first and reach the view once
 * it accepted them.
 */
import type { GridRole } from '../../../client/transport.js';

/** A token, kept only as the SHA-256 of its secret. */
export interface TokenRecord {
  readonly sha256: string;
  readonly role: GridRole;
  readonly expiresAtMs: number;
  /** An API token (reusable bearer token of the HTTP API), not a join token. */
  readonly api?: boolean;
}

/** Who a certificate was issued to, until it expires (an agent's revocation reaches all its serials). */
export interface IssuedRecord {
  readonly role: GridRole;
  readonly name: string;
  /** The certificate's notAfter. */
  readonly expiresAtMs: number;
  /** For a node certificate: the agent it was issued to (revoking the agent revokes it too). */
  readonly by?: string;
}

/**
 * A revocation, kept while it can matter: a serial's until its certificate expires, an agent id's
 * until every certificate the agent held when it was revoked has expired.
 */
export interface RevocationRecord {
  readonly expiresAtMs: number;
}

/** The records by kind; each is keyed (token id, serial in upper case, agent id) within its kind. */
export interface CredentialRecords {
  tokens: TokenRecord;
  issued: IssuedRecord;
  revokedSerials: RevocationRecord;
  revokedAgents: RevocationRecord;
}

export type CredentialKind = keyof CredentialRecords;

export const CREDENTIAL_KINDS: readonly CredentialKind[] = ['tokens', 'issued', 'revokedSerials', 'revokedAgents'];

/** One change of a {@link CredentialStore.write}: a put with `value`, a delete without. */
export type CredentialChange = { [K in CredentialKind]: { readonly kind: K; readonly key: string; readonly value?: CredentialRecords[K] } }[CredentialKind];

/**
 * Every record has an `expiresAtMs`: a store may drop any record past it (and does, on its writes),
 * so what it holds stays bounded by what is still valid.
 */
export interface CredentialStore {
  /** Reads the records and starts following changes made elsewhere; once, before the master serves. */
  open(): Promise<void>;
  /** The record of `kind` under `key` as this master sees it now (may include expired ones). */
  get<K extends CredentialKind>(kind: K, key: string): CredentialRecords[K] | undefined;
  /** Every record of `kind` as this master sees it now. */
  entries<K extends CredentialKind>(kind: K): Iterable<[string, CredentialRecords[K]]>;
  /**
   * Applies `changes` (in order; atomically up to a store's limit of changes per transaction) and
   * prunes expired records. In the view once it resolves.
   */
  write(changes: readonly CredentialChange[]): Promise<void>;
  /**
   * Removes the record of `kind` under `key` if it exists and `accept` says so, atomically: of two
   * masters taking the same record, exactly one gets it. @returns the record taken, or undefined.
   */
  take<K extends CredentialKind>(kind: K, key: string, accept: (record: CredentialRecords[K]) => boolean): Promise<CredentialRecords[K] | undefined>;
  /** Stops following changes (the etcd client belongs to whoever connected it). */
  close(): Promise<void>;
}

/** A view in memory of every kind, used by both stores. */
export type CredentialMaps = { [K in CredentialKind]: Map<string, CredentialRecords[K]> };

export function emptyMaps(): CredentialMaps {
  return { tokens: new Map(), issued: new Map(), revokedSerials: new Map(), revokedAgents: new Map() };
}

/** Applies one change to the view. */
export function applyChange(maps: CredentialMaps, c: CredentialChange): void {
  const map = maps[c.kind] as Map<string, unknown>;
  if (c.value === undefined) map.delete(c.key);
  else map.set(c.key, c.value);
}

/** Deletions of every record of `maps` expired at `nowMs` (at most `max` of them). */
export function expiredChanges(maps: CredentialMaps, nowMs: number, max = Number.POSITIVE_INFINITY): CredentialChange[] {
  const out: CredentialChange[] = [];
  for (const kind of CREDENTIAL_KINDS) {
    for (const [key, record] of maps[kind]) {
      if (out.length >= max) return out;
      if (record.expiresAtMs <= nowMs) out.push({ kind, key } as CredentialChange);
    }
  }
  return out;
}
