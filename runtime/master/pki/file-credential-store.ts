/**
 * The credentials of a lone master: `<data-dir>/pki/credentials.json` (0600), rewritten whole on
 * every change (temp file then rename). Tokens are stored only as hashes: the file never holds a
 * usable token.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { GridIdentity } from '../../../client/transport.js';
import { RuntimeError } from '../../errors.js';
import { pkiPath, writePrivate } from './pki-files.js';
import {
  applyChange,
  CREDENTIAL_KINDS,
  emptyMaps,
  expiredChanges,
  type CredentialChange,
  type CredentialKind,
  type CredentialMaps,
  type CredentialRecords,
  type CredentialStore,
  type TokenRecord,
} from './credential-store.js';

/** The file as written before records carried their expiry (read, then rewritten in the new form). */
interface LegacyFile {
  tokens?: Array<TokenRecord & { id: string }>;
  revokedSerials?: string[];
  revokedAgents?: string[];
  issued?: Record<string, GridIdentity>;
}

interface FileV2 {
  version: 2;
  records: { [K in CredentialKind]?: Record<string, CredentialRecords[K]> };
}

/** Options of {@link FileCredentialStore}. */
export interface FileCredentialStoreOptions {
  /**
   * How long a record of the legacy file (which kept no expiry) is kept from now: the longest life
   * of a certificate the master issues, after which every certificate it recorded has expired.
   */
  readonly legacyKeepMs: number;
  readonly now?: () => number;
}

/** A lone master's credentials, in its data dir. */
export class FileCredentialStore implements CredentialStore {
  readonly #path: string;
  readonly #maps: CredentialMaps;
  readonly #now: () => number;

  /** @throws RuntimeError STATE_DAMAGED when the file is not a credentials file. */
  constructor(dataDir: string, o: FileCredentialStoreOptions) {
    this.#path = pkiPath(dataDir, 'credentials.json');
    this.#now = o.now ?? Date.now;
    this.#maps = existsSync(this.#path) ? this.#read(o.legacyKeepMs) : emptyMaps();
  }

  open(): Promise<void> {
    return Promise.resolve();
  }

  get<K extends CredentialKind>(kind: K, key: string): CredentialRecords[K] | undefined {
    return this.#maps[kind].get(key) as CredentialRecords[K] | undefined;
  }

  entries<K extends CredentialKind>(kind: K): Iterable<[string, CredentialRecords[K]]> {
    return (this.#maps[kind] as Map<string, CredentialRecords[K]>).entries();
  }

  write(changes: readonly CredentialChange[]): Promise<void> {
    for (const c of changes) applyChange(this.#maps, c);
    this.#save();
    return Promise.resolve();
  }

  take<K extends CredentialKind>(kind: K, key: string, accept: (record: CredentialRecords[K]) => boolean): Promise<CredentialRecords[K] | undefined> {
    const record = this.get(kind, key);
    if (record === undefined || !accept(record)) return Promise.resolve(undefined);
    this.#maps[kind].delete(key);
    this.#save();
    return Promise.resolve(record);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Writes the file, without what has expired (so it never grows past what is still valid). */
  #save(): void {
    for (const c of expiredChanges(this.#maps, this.#now())) applyChange(this.#maps, c);
    const records: FileV2['records'] = {};
    for (const kind of CREDENTIAL_KINDS) records[kind] = Object.fromEntries(this.#maps[kind]) as never;
    writePrivate(this.#path, JSON.stringify({ version: 2, records } satisfies FileV2, null, 2));
  }

  #read(legacyKeepMs: number): CredentialMaps {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.#path, 'utf8'));
    } catch (err) {
      throw new RuntimeError('STATE_DAMAGED', `${this.#path} is not a credentials file: ${(err as Error).message}`, { file: this.#path }, { cause: err });
    }
    const maps = emptyMaps();
    if (typeof parsed !== 'object' || parsed === null) throw new RuntimeError('STATE_DAMAGED', `${this.#path} is not a credentials file`, { file: this.#path });
    if ((parsed as Partial<FileV2>).version === 2) {
      const records = (parsed as FileV2).records ?? {};
      for (const kind of CREDENTIAL_KINDS) {
        for (const [key, value] of Object.entries(records[kind] ?? {})) (maps[kind] as Map<string, unknown>).set(key, value);
      }
      return maps;
    }
    // Written before records kept their expiry: keep each as long as a certificate may live.
    const legacy = parsed as LegacyFile;
    const until = this.#now() + legacyKeepMs;
    for (const t of legacy.tokens ?? []) {
      const { id, ...token } = t;
      maps.tokens.set(id, token);
    }
    for (const [serial, id] of Object.entries(legacy.issued ?? {})) maps.issued.set(serial, { role: id.role, name: id.name, expiresAtMs: until });
    for (const serial of legacy.revokedSerials ?? []) maps.revokedSerials.set(serial, { expiresAtMs: until });
    for (const agent of legacy.revokedAgents ?? []) maps.revokedAgents.set(agent, { expiresAtMs: until });
    return maps;
  }
}
