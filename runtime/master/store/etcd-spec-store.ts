import type { Etcd3 } from 'etcd3';
import { GridError, RuntimeError } from '../../errors.js';
import { storedSpecProblem, type SpecStore, type StoredSpec } from '../spec-store.js';
import { etcdCall } from './etcd-target.js';

/** The fencing token a write must carry: the leader key and the create revision it must still have. */
export type Fence = () => { key: string; createRevision: number } | undefined;

/** Options of {@link EtcdSpecStore}. */
export interface EtcdSpecStoreOptions {
  readonly client: Etcd3;
  /** The key prefix (ends with `/`); the state is `<prefix>state`. */
  readonly prefix: string;
  /** The members, for messages. */
  readonly endpoints: readonly string[];
  /**
   * The leadership a write is conditioned on; undefined refuses the write (this master does not
   * lead). Without it (tests of the store alone), writes are conditioned on the revision only.
   */
  readonly fence?: Fence;
  /** Throws when a stored spec does not compile (as FileSpecStoreOptions.check). */
  readonly check?: (specJson: string) => void;
}

/**
 * The master's durable state (the spec, its generation, leaders, terms, cordons, the last good
 * spec: a {@link StoredSpec}) as one JSON value in etcd. One key keeps every change atomic, as the
 * file store's rename does.
 *
 * Every save is a transaction that compares the key's mod revision with the one this store last
 * read or wrote (and the leader key's create revision with the fence's), so of two masters that
 * read the same state and both write, exactly one wins; the other gets STALE_GENERATION (or
 * MASTER_NOT_LEADER when it was deposed) and must load again.
 */
export class EtcdSpecStore implements SpecStore {
  readonly key: string;
  /** Mod revision of the state as last read or written; 0 when the key did not exist. */
  private revision = 0;

  constructor(private readonly o: EtcdSpecStoreOptions) {
    this.key = `${o.prefix}state`;
  }

  /**
   * The stored state, or undefined when none was ever stored.
   * @throws GridError STATE_DAMAGED when the value is not a valid state; QUORUM_UNAVAILABLE when
   * etcd does not answer.
   */
  async load(): Promise<StoredSpec | undefined> {
    const res = await this.etcd('read the stored spec', () => this.o.client.get(this.key).exec());
    const kv = res.kvs[0];
    if (kv === undefined) {
      this.revision = 0;
      return undefined;
    }
    const parsed = storedSpecProblem(kv.value.toString('utf8'), this.o.check);
    if (typeof parsed === 'string') {
      throw new RuntimeError('STATE_DAMAGED', `stored spec at etcd key ${this.key} ${parsed}; apply a valid spec with a master that reads it, or remove the key to start with no spec`, { file: this.key });
    }
    this.revision = Number(kv.mod_revision);
    return parsed;
  }

  /**
   * Replaces the stored state if nobody wrote it since this store last read or wrote it.
   * @throws RuntimeError STALE_GENERATION when another master wrote first; MASTER_NOT_LEADER when
   * this master does not lead (or was deposed); QUORUM_UNAVAILABLE when etcd does not answer.
   */
  async save(spec: StoredSpec): Promise<void> {
    const c = this.o.client;
    const fence = this.o.fence?.();
    if (this.o.fence !== undefined && fence === undefined) {
      throw new RuntimeError('MASTER_NOT_LEADER', 'this master does not lead (its etcd leadership ended); nothing was written', { field: 'leader' });
    }
    let txn = c.if(this.key, 'Mod', '==', this.revision);
    if (fence !== undefined) txn = txn.and(fence.key, 'Create', '==', fence.createRevision);
    const res = await this.etcd('write the spec', () =>
      txn
        .then(c.put(this.key).value(JSON.stringify(spec)))
        .else(c.get(this.key), ...(fence !== undefined ? [c.get(fence.key)] : []))
        .commit(),
    );
    if (res.succeeded) {
      this.revision = Number(res.header.revision);
      return;
    }
    const leaderKv = res.responses[1]?.response_range?.kvs?.[0];
    if (fence !== undefined && (leaderKv === undefined || Number(leaderKv.create_revision) !== fence.createRevision)) {
      // Worded as every not-leader refusal ("this master does not lead"): a client given several
      // masters then sends the change to the next one (client/leader-hint.ts), since nothing was written.
      throw new RuntimeError('MASTER_NOT_LEADER', 'this master does not lead: it was deposed (its etcd leader key is gone); nothing was written', { field: 'leader' });
    }
    const now = res.responses[0]?.response_range?.kvs?.[0];
    const current = now === undefined ? undefined : storedSpecProblem(now.value.toString('utf8'));
    const generation = typeof current === 'object' ? current.generation : undefined;
    throw new RuntimeError(
      'STALE_GENERATION',
      `the stored spec changed in etcd since this master read it${generation !== undefined ? ` (now at generation ${generation})` : ''}: another master wrote first; nothing was written`,
      { field: 'expected_generation', ...(generation !== undefined ? { current: generation } : {}) },
    );
  }

  close(): Promise<void> {
    // The client belongs to whoever connected it (etcd-state.ts closes it).
    return Promise.resolve();
  }

  /** Runs an etcd call; a failure to reach a quorum becomes QUORUM_UNAVAILABLE naming etcd. */
  private async etcd<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await etcdCall(fn);
    } catch (err) {
      if (err instanceof GridError) throw err;
      throw new RuntimeError(
        'QUORUM_UNAVAILABLE',
        `cannot ${what}: etcd (${this.o.endpoints.join(',')}) did not answer (${(err as Error).message}); its quorum may be lost. Nothing is confirmed (a write may still take effect once etcd recovers: GetSpec tells); running nodes keep running`,
        { field: 'store' },
        { cause: err },
      );
    }
  }
}
