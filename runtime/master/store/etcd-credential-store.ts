import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { GridError, RuntimeError } from '../../errors.js';
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
} from '../pki/credential-store.js';
import { ETCD_CALL_TIMEOUT_MS, etcdCall } from './etcd-target.js';

/** Options of {@link EtcdCredentialStore}. */
export interface EtcdCredentialStoreOptions {
  readonly client: Etcd3;
  /** The key prefix (ends with `/`); records are `<prefix>credentials/<kind>/<key>`. */
  readonly prefix: string;
  /** The members, for messages. */
  readonly endpoints: readonly string[];
  readonly now?: () => number;
  /** Told when following etcd failed (the watch or a reload); must not throw. */
  readonly onError?: (err: unknown) => void;
}

/** etcd's default --max-txn-ops is 128: a write's changes go in transactions of at most this many. */
const TXN_OPS = 100;
/** Expired records a write also deletes (prune on write: what only writes add, writes remove). */
const PRUNE_PER_WRITE = 20;

/**
 * The credentials of several masters, in etcd: one key per record, so writes of different masters
 * never conflict, and a join token is used up by a transaction that deletes it only if it is
 * still the one read (of two masters racing, exactly one deletes it).
 *
 * Every master keeps a view in memory (the checks on every call read it, with no round trip),
 * loaded once and then kept current by a watch from the revision it loaded. A write returns once
 * the watch has brought it into the view (so a revocation is in force at the master that made it
 * when the RPC returns; the view only ever holds etcd's history in order); others see it as soon as
 * their watch delivers it.
 *
 * Growth: each record carries its expiry (a certificate's notAfter, a token's expiry); every write
 * also deletes up to {@link PRUNE_PER_WRITE} expired records, so the keys stay bounded by what is
 * still valid plus what the next writes remove. No lease: a record lives months, and a lease per
 * record would cost a round trip per write and keep-alive bookkeeping in etcd.
 */
export class EtcdCredentialStore implements CredentialStore {
  readonly #root: string;
  readonly #now: () => number;
  #maps: CredentialMaps = emptyMaps();
  /** The revision the view is current to (waiting writes compare with it). */
  #revision = 0;
  /** The revision of the last full read: events at or before it are already in the view. */
  #loaded = 0;
  #watcher: Watcher | undefined;
  #closed = false;
  readonly #waiting = new Set<{ revision: number; resolve: () => void }>();

  constructor(private readonly o: EtcdCredentialStoreOptions) {
    this.#root = `${o.prefix}credentials/`;
    this.#now = o.now ?? Date.now;
  }

  /** @throws RuntimeError QUORUM_UNAVAILABLE when etcd does not answer. */
  async open(): Promise<void> {
    await this.#follow();
  }

  /** Reads every record, then watches from the revision read. */
  async #follow(): Promise<void> {
    await this.#load();
    const w = await this.o.client.watch().prefix(this.#root).startRevision(String(this.#loaded + 1)).create();
    if (this.#closed) {
      await w.cancel().catch(() => undefined);
      return;
    }
    this.#watcher = w;
    w.on('data', (res) => {
      // (one transaction's changes share a revision: the view advances past it after all of them)
      let last = 0;
      for (const ev of res.events) last = Math.max(last, this.#apply(ev.kv, ev.type === 'Delete'));
      this.#advance(last);
    });
    // etcd cancelled the watch (its revision was compacted away, say): read it all again and watch anew.
    w.on('error', (err) => {
      this.o.onError?.(err);
      void this.#refollow();
    });
  }

  /** {@link #follow} again until it works or the store is closed, a second apart. */
  async #refollow(): Promise<void> {
    while (!this.#closed) {
      try {
        await this.#follow();
        return;
      } catch (err) {
        this.o.onError?.(err);
        await new Promise((r) => setTimeout(r, 1000).unref());
      }
    }
  }

  get<K extends CredentialKind>(kind: K, key: string): CredentialRecords[K] | undefined {
    return this.#maps[kind].get(key) as CredentialRecords[K] | undefined;
  }

  entries<K extends CredentialKind>(kind: K): Iterable<[string, CredentialRecords[K]]> {
    return (this.#maps[kind] as Map<string, CredentialRecords[K]>).entries();
  }

  /** @throws RuntimeError QUORUM_UNAVAILABLE when etcd does not answer (a chunk may have landed). */
  async write(changes: readonly CredentialChange[]): Promise<void> {
    const written = new Set(changes.map((c) => this.#key(c.kind, c.key)));
    const prune = expiredChanges(this.#maps, this.#now(), PRUNE_PER_WRITE).filter((c) => !written.has(this.#key(c.kind, c.key)));
    const all = [...changes, ...prune];
    const c = this.o.client;
    for (let i = 0; i < all.length; i += TXN_OPS) {
      const chunk = all.slice(i, i + TXN_OPS);
      const res = await this.#etcd('write credentials', () =>
        // (a transaction with a condition that always holds: etcd3 builds transactions from `if`)
        c
          .if(this.#root, 'Mod', '>', -1)
          .then(...chunk.map((ch) => (ch.value === undefined ? c.delete().key(this.#key(ch.kind, ch.key)) : c.put(this.#key(ch.kind, ch.key)).value(JSON.stringify(ch.value)))))
          .commit(),
      );
      await this.#caughtUp(Number(res.header.revision), chunk);
    }
  }

  /** @throws RuntimeError QUORUM_UNAVAILABLE when etcd does not answer. */
  async take<K extends CredentialKind>(kind: K, key: string, accept: (record: CredentialRecords[K]) => boolean): Promise<CredentialRecords[K] | undefined> {
    const c = this.o.client;
    const k = this.#key(kind, key);
    // Read from etcd, not the view: a token made a moment ago at another master is there already.
    const kv = (await this.#etcd('read a credential', () => c.get(k).exec())).kvs[0];
    if (kv === undefined) return undefined;
    const record = parse(kv) as CredentialRecords[K] | undefined;
    if (record === undefined || !accept(record)) return undefined;
    const res = await this.#etcd('use up a credential', () => c.if(k, 'Mod', '==', Number(kv.mod_revision)).then(c.delete().key(k)).commit());
    if (!res.succeeded) return undefined;
    await this.#caughtUp(Number(res.header.revision), [{ kind, key } as CredentialChange]);
    return record;
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiting) w.resolve();
    this.#waiting.clear();
    await this.#watcher?.cancel().catch(() => undefined);
  }

  /** Reads every record as etcd has it now; the view becomes that. */
  async #load(): Promise<void> {
    const res = await this.#etcd('read the credentials', () => this.o.client.getAll().prefix(this.#root).exec());
    const maps = emptyMaps();
    for (const kv of res.kvs) {
      const where = this.#where(kv);
      const record = parse(kv);
      if (where !== undefined && record !== undefined) applyChange(maps, { ...where, value: record } as CredentialChange);
    }
    this.#maps = maps;
    this.#loaded = Number(res.header.revision);
    this.#advance(this.#loaded);
  }

  /** One event of the watch, unless the view already holds it (a reload read past it). @returns its revision. */
  #apply(kv: IKeyValue, deleted: boolean): number {
    const revision = Number(kv.mod_revision);
    if (revision <= this.#loaded) return revision;
    const where = this.#where(kv);
    if (where !== undefined) {
      const value = deleted ? undefined : parse(kv);
      if (deleted || value !== undefined) applyChange(this.#maps, { ...where, ...(value !== undefined ? { value } : {}) } as CredentialChange);
    }
    return revision;
  }

  #advance(revision: number): void {
    if (revision <= this.#revision) return;
    this.#revision = revision;
    for (const w of this.#waiting) {
      if (w.revision <= revision) {
        this.#waiting.delete(w);
        w.resolve();
      }
    }
  }

  /**
   * Waits until the watch brought `revision` into the view. Should the watch lag behind (etcd
   * reconnecting), `changes` are applied here after the call timeout, so a write is never left out.
   */
  async #caughtUp(revision: number, changes: readonly CredentialChange[]): Promise<void> {
    if (this.#revision >= revision || this.#closed) return;
    let timer: NodeJS.Timeout | undefined;
    const waiter = { revision, resolve: (): void => undefined };
    const arrived = await new Promise<boolean>((resolve) => {
      waiter.resolve = () => resolve(true);
      this.#waiting.add(waiter);
      timer = setTimeout(() => resolve(false), ETCD_CALL_TIMEOUT_MS);
    });
    clearTimeout(timer);
    this.#waiting.delete(waiter);
    if (!arrived) for (const c of changes) applyChange(this.#maps, c);
  }

  #key(kind: CredentialKind, key: string): string {
    return `${this.#root}${kind}/${key}`;
  }

  /** The kind and key of an etcd key under the root; undefined for anything else. */
  #where(kv: IKeyValue): { kind: CredentialKind; key: string } | undefined {
    const rest = kv.key.toString('utf8').slice(this.#root.length);
    const slash = rest.indexOf('/');
    const kind = rest.slice(0, slash) as CredentialKind;
    if (slash <= 0 || !CREDENTIAL_KINDS.includes(kind)) return undefined;
    return { kind, key: rest.slice(slash + 1) };
  }

  /** Runs an etcd call; a failure to reach a quorum becomes QUORUM_UNAVAILABLE naming etcd. */
  async #etcd<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await etcdCall(fn);
    } catch (err) {
      if (err instanceof GridError) throw err;
      throw new RuntimeError('QUORUM_UNAVAILABLE', `cannot ${what}: etcd (${this.o.endpoints.join(',')}) did not answer (${(err as Error).message}); nothing is confirmed`, { field: 'store' }, { cause: err });
    }
  }
}

/** A record's value; undefined for one that is not JSON with an expiry (ignored, never trusted). */
function parse(kv: IKeyValue): CredentialRecords[CredentialKind] | undefined {
  try {
    const v = JSON.parse(kv.value.toString('utf8')) as { expiresAtMs?: unknown };
    return typeof v === 'object' && v !== null && typeof v.expiresAtMs === 'number' ? (v as CredentialRecords[CredentialKind]) : undefined;
  } catch {
    return undefined;
  }
}
