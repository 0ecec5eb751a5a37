import { performance } from 'node:perf_hooks';
import type { Etcd3, Lease } from 'etcd3';
import type { Logger } from '../../common/logger.js';
import type { LeaderInfo, Leadership, MasterPeer } from '../leadership.js';

const NO_LEADER: LeaderInfo = { address: '', masterId: '', sinceMs: 0 };

/** Options of {@link EtcdLeadership}. */
export interface EtcdLeadershipOptions {
  readonly client: Etcd3;
  /** The key prefix (ends with `/`); the leader key is `<prefix>leader`. */
  readonly prefix: string;
  /** The members, for messages. */
  readonly endpoints: readonly string[];
  /** Lease TTL in whole seconds (etcd's unit), at least 1. */
  readonly ttlSeconds: number;
  /** The address to advertise instead of the bound one (`--advertise`). */
  readonly advertise?: string | undefined;
  readonly logger: Logger;
}

/**
 * Leader election on etcd with a lease and a compare-and-swap: the master that creates the leader
 * key (`Create == 0`), attached to its lease, leads until the key is gone. The key's create
 * revision is the leadership's fencing token: every write of the store compares it
 * (etcd-spec-store.ts), so a deposed leader's writes fail in etcd itself.
 *
 * A leader also stops acting on its own before its lease could have expired: each keepalive that
 * etcd acknowledges extends the lease to (time the keepalive was SENT + TTL), and this master
 * counts itself leader only until that instant minus a margin, on the monotonic clock. A master
 * frozen (SIGSTOP) or cut off from etcd is past that instant when it next looks, so it acts on
 * nothing, whatever its timers have not yet noticed.
 */
export class EtcdLeadership implements Leadership {
  private lease: Lease | undefined;
  private leaseId = '';
  /** Until when (performance.now) the lease is surely alive in etcd, minus the margin. */
  private validUntil = 0;
  /** Keepalives sent and not yet answered, oldest first (the stream answers in order). */
  private fired: number[] = [];
  /** Create revision of our leader key while we lead; 0 otherwise. */
  private leadingRevision = 0;
  private seen: LeaderInfo = NO_LEADER;
  private self: LeaderInfo = NO_LEADER;
  private health = 'etcd: not contacted yet';
  /** The masters whose presence keys the last look found (the leader looks). */
  private others: MasterPeer[] = [];
  private readonly startedAtMs = Date.now();
  private readonly listeners: ((leading: boolean) => void)[] = [];
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly key: string;
  private readonly marginMs: number;
  private readonly pollMs: number;

  constructor(private readonly o: EtcdLeadershipOptions) {
    this.key = `${o.prefix}leader`;
    const ttlMs = o.ttlSeconds * 1000;
    this.marginMs = Math.max(300, Math.round(ttlMs * 0.2));
    this.pollMs = Math.max(100, Math.min(500, Math.round(ttlMs / 8)));
  }

  isLeader(): boolean {
    return this.leadingRevision > 0 && performance.now() < this.validUntil;
  }

  /** The create revision of our leader key while we lead (the fencing token), else undefined. */
  fence(): { key: string; createRevision: number } | undefined {
    return this.isLeader() ? { key: this.key, createRevision: this.leadingRevision } : undefined;
  }

  leader(): LeaderInfo {
    if (this.isLeader()) return this.self;
    // Our own key, still in etcd until its lease runs out, names no leader that acts.
    return this.seen.masterId === this.self.masterId ? NO_LEADER : this.seen;
  }

  onChange(listener: (leading: boolean) => void): void {
    this.listeners.push(listener);
  }

  storeHealth(): string {
    return this.health;
  }

  peers(): readonly MasterPeer[] {
    const leading = this.isLeader();
    const me: MasterPeer = { ...this.self, leading, sinceMs: leading ? this.self.sinceMs : this.startedAtMs };
    return [me, ...this.others.filter((p) => p.masterId !== this.self.masterId)];
  }

  start(address: string, masterId: string): Promise<void> {
    this.self = { address: this.o.advertise ?? address, masterId, sinceMs: 0 };
    this.loop ??= this.run();
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.abort.abort();
    await this.loop;
    const rev = this.leadingRevision;
    if (rev > 0) {
      this.stepDown('shutting down');
      // Resign at once, so another master leads without waiting for the TTL.
      await this.o.client
        .if(this.key, 'Create', '==', rev)
        .then(this.o.client.delete().key(this.key))
        .commit()
        .catch(() => undefined);
    }
    await this.dropLease();
    this.o.client.close();
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        await this.step();
        this.health = `etcd ${this.o.endpoints.join(',')} healthy`;
      } catch (err) {
        this.health = `etcd ${this.o.endpoints.join(',')} unreachable or without quorum: ${(err as Error).message}`;
        // Cut off from etcd, this master cannot tell who leads: naming the last one seen would
        // send clients round in circles.
        this.seen = NO_LEADER;
        if (this.leadingRevision > 0 && !this.isLeader()) this.stepDown('its lease could not be renewed in time');
      }
      await new Promise<void>((resolve) => {
        // One listener per wait, removed when the wait ends: a listener left behind each poll
        // would pile up on the signal for the master's whole life.
        const done = (): void => {
          clearTimeout(t);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const t = setTimeout(done, this.pollMs);
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** One look at the leader key: keep leading, notice a deposition, or campaign. */
  private async step(): Promise<void> {
    if (this.leadingRevision > 0 && !this.isLeader()) this.stepDown('its lease could not be renewed in time');
    const c = this.o.client;
    if (this.leadingRevision > 0) {
      const kv = await this.read();
      if (kv?.createRevision !== this.leadingRevision) this.stepDown('its leader key is gone (the lease expired or was revoked)');
      else await this.readPeers();
      return;
    }
    await this.ensureLease();
    const value = JSON.stringify({ address: this.self.address, masterId: this.self.masterId, sinceMs: Date.now() });
    const res = await c.if(this.key, 'Create', '==', 0).then(c.put(this.key).value(value).lease(this.leaseId)).else(c.get(this.key)).commit();
    if (res.succeeded) {
      this.leadingRevision = Number(res.header.revision);
      this.self = { ...this.self, sinceMs: Date.now() };
      if (!this.isLeader()) {
        this.stepDown('its lease was too old by the time it won');
        return;
      }
      this.o.logger.info({ term: this.leadingRevision, sinceMs: this.self.sinceMs }, `this master leads (etcd revision ${this.leadingRevision})`);
      this.notify(true);
      return;
    }
    const kv = res.responses[0]?.response_range?.kvs?.[0];
    this.seen = kv === undefined ? NO_LEADER : parseLeader(kv.value.toString('utf8'));
  }

  private async read(): Promise<{ createRevision: number } | undefined> {
    const res = await this.o.client.get(this.key).exec();
    const kv = res.kvs[0];
    if (kv === undefined) {
      this.seen = NO_LEADER;
      return undefined;
    }
    this.seen = parseLeader(kv.value.toString('utf8'));
    return { createRevision: Number(kv.create_revision) };
  }

  /** The other masters' presence keys (each on its master's lease). */
  private async readPeers(): Promise<void> {
    const all = await this.o.client.getAll().prefix(`${this.o.prefix}masters/`).strings();
    this.others = Object.values(all).map(parsePeer).filter((p) => p.masterId !== '');
  }

  private async ensureLease(): Promise<void> {
    if (this.lease !== undefined) return;
    const lease = this.o.client.lease(this.o.ttlSeconds);
    this.fired = [];
    lease.on('keepaliveEstablished', () => {
      this.fired = [];
    });
    lease.on('keepaliveFired', () => this.fired.push(performance.now()));
    lease.on('keepaliveSucceeded', (res) => {
      const sentAt = this.fired.shift();
      if (sentAt !== undefined && Number(res.TTL) > 0) this.validUntil = Math.max(this.validUntil, sentAt + Number(res.TTL) * 1000 - this.marginMs);
    });
    lease.on('lost', (err) => {
      if (this.lease !== lease) return;
      this.lease = undefined;
      if (this.leadingRevision > 0) this.stepDown(`its etcd lease was lost (${err.message})`);
    });
    const before = performance.now();
    try {
      this.leaseId = await lease.grant();
    } catch (err) {
      await lease.revoke().catch(() => undefined);
      throw err;
    }
    this.lease = lease;
    this.validUntil = before + this.o.ttlSeconds * 1000 - this.marginMs;
    // Presence for `status`: gone with the lease when this master dies.
    const presence = JSON.stringify({ address: this.self.address, masterId: this.self.masterId, sinceMs: this.startedAtMs });
    await this.o.client.put(`${this.o.prefix}masters/${this.self.masterId}`).value(presence).lease(this.leaseId).exec();
  }

  private stepDown(why: string): void {
    if (this.leadingRevision === 0) return;
    this.leadingRevision = 0;
    this.validUntil = 0;
    this.seen = NO_LEADER;
    this.o.logger.warn(`this master no longer leads: ${why}; it acts on nothing until it wins an election again`);
    // A new lease for the next campaign: the old one may still hold the key until it expires.
    void this.dropLease();
    this.notify(false);
  }

  private async dropLease(): Promise<void> {
    const lease = this.lease;
    this.lease = undefined;
    this.validUntil = 0;
    if (lease === undefined) return;
    // revoke() stops the keepalives first; when etcd is away the lease expires on its own.
    await lease.revoke().catch(() => undefined);
  }

  private notify(leading: boolean): void {
    for (const l of this.listeners) {
      try {
        l(leading);
      } catch (err) {
        this.o.logger.error({ err: (err as Error).message }, 'a leadership listener threw; ignored');
      }
    }
  }
}

function parsePeer(text: string): MasterPeer {
  return { ...parseLeader(text), leading: false };
}

function parseLeader(text: string): LeaderInfo {
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    return {
      address: typeof o['address'] === 'string' ? o['address'] : '',
      masterId: typeof o['masterId'] === 'string' ? o['masterId'] : '',
      sinceMs: typeof o['sinceMs'] === 'number' ? o['sinceMs'] : 0,
    };
  } catch {
    return NO_LEADER;
  }
}
