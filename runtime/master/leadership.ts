import type { EventStore } from '../events/index.js';
import { RuntimeError } from '../errors.js';

/** What the master knows of the leading master: itself, another, or none. */
export interface LeaderInfo {
  /** The leader's gRPC address (HOST:PORT), '' when no master leads. */
  readonly address: string;
  /** The leader's master id, '' when no master leads. */
  readonly masterId: string;
  /** When it started leading (ms since the epoch), 0 when no master leads. */
  readonly sinceMs: number;
}

/** One master as `status` shows it. */
export interface MasterPeer extends LeaderInfo {
  readonly leading: boolean;
}

/**
 * Whether this master may act (reconcile, schedule, promote, accept writes). The file store has one
 * master that always leads ({@link SoleLeadership}); on etcd, masters elect one
 * (store/etcd-leadership.ts).
 */
export interface Leadership {
  /**
   * True while this master leads and its lease cannot yet have expired: checked right before each
   * action, so a master that was frozen (SIGSTOP) or cut off stops acting the moment it wakes.
   */
  isLeader(): boolean;
  /** The leading master as last seen; `address` '' when none is known. */
  leader(): LeaderInfo;
  /** Told whenever this master starts or stops leading. */
  onChange(listener: (leading: boolean) => void): void;
  /** Where the shared state lives, for `status`: e.g. `etcd 127.0.0.1:2379 healthy`; '' for none. */
  storeHealth(): string;
  /** Every master up, this one included (for `status`); empty for a lone master. */
  peers(): readonly MasterPeer[];
  /** Starts campaigning (advertising `address`); resolves once started, not once leading. */
  start(address: string, masterId: string): Promise<void>;
  /** Stops leading (resigns) and campaigning. Idempotent. */
  close(): Promise<void>;
}

/**
 * @throws RuntimeError MASTER_NOT_LEADER (UNAVAILABLE: retry elsewhere) naming the leader's address in
 * `[leader=HOST:PORT]` (clients and agents parse it: client/leader-hint.ts), or saying none leads.
 */
export function requireLeader(leadership: Leadership, what: string): void {
  if (leadership.isLeader()) return;
  const l = leadership.leader();
  const health = leadership.storeHealth();
  const why = l.address !== '' ? `the leading master is at ${l.address} [leader=${l.address}]` : `no master leads now${health !== '' ? ` (${health})` : ''}; retry shortly`;
  throw new RuntimeError('MASTER_NOT_LEADER', `${what}: this master does not lead: ${why}`, { field: 'leader' });
}

/**
 * Reads a follower answers itself, from the shared state in etcd: the events (the shared log) and
 * the applied spec with its generation. Reads of what only the leader knows (live agents and
 * nodes, status, plans placed on them) it forwards to the leader (handlers/leader-reads.ts);
 * writes are refused naming the leader, and clients given several masters go there.
 */
const FOLLOWER_READS: ReadonlySet<string> = new Set(['listEvents', 'watchEvents', 'getSpec']);

/** {@link requireLeader}, except for the reads a follower serves ({@link FOLLOWER_READS}). */
export function requireLeaderFor(leadership: Leadership, rpc: string): void {
  if (!FOLLOWER_READS.has(rpc)) requireLeader(leadership, rpc);
}

/**
 * The event log several masters share (store/etcd-event-log.ts): every master reads and follows
 * it; only the leader appends, after {@link takeOver}.
 */
export interface SharedEventStore extends EventStore {
  /** Reads the log and starts following it; once, before a bus is built on it. */
  open(): Promise<void>;
  /** This master starts leading: read the log's end, then append after it. */
  takeOver(): Promise<void>;
  /** This master stopped leading: refuse appends. */
  stepDown(): void;
}

/** The lone master of the file store: it always leads. */
export class SoleLeadership implements Leadership {
  private self: LeaderInfo = { address: '', masterId: '', sinceMs: 0 };

  isLeader(): boolean {
    return true;
  }

  leader(): LeaderInfo {
    return this.self;
  }

  onChange(): void {
    // Never changes.
  }

  storeHealth(): string {
    return '';
  }

  peers(): readonly MasterPeer[] {
    return [];
  }

  start(address: string, masterId: string): Promise<void> {
    this.self = { address, masterId, sinceMs: Date.now() };
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
