/**
 * The one client of the grid master, for everything outside it: the CLI, the Pulumi provider, the
 * benchmarks. Calls carry the token and a deadline; the declarative and read calls answer in domain
 * types (a {@link Plan}, {@link GridNode}s, a {@link GridStatus}); every failure is a ClientError
 * with a stable code (client/master-errors.ts).
 */
import type { ChannelCredentials, ClientReadableStream, Interceptor } from '@grpc/grpc-js';
import type { Plan } from '../plan/index.js';
import { GridMasterClient, type Event, type EventFilter, type GetClusterStatusResponse, type WatchEventsResponse } from '../proto/gen/sutra/grid/v1/grid.pb.js';
import { channelTarget } from './channel-target.js';
import { ClientError } from './errors.js';
import { authMetadata, insecureCredentials, unary } from './grpc-call.js';
import { sleep } from './backoff.js';
import { leaderHint, nextMaster, splitMasters } from './leader-hint.js';
import { TlsSource, tlsChannelCredentials, TLS_CHANNEL_OPTIONS, type TlsMaterial } from './tls.js';
import { classifyMasterError } from './master-errors.js';
import { cordonFromWire, nodeFromWire, statusFromWire, type CordonOutcome, type GridNode, type GridStatus } from './node-wire.js';
import { planFromWire } from './plan-wire.js';
import { clientChannelOptions, MAX_SPEC_BYTES, specSizeProblem } from './wire-limits.js';

/** An event as the master streams it (the CLI prints them as they are). */
export type WireEvent = Event;
/** Which events a watch or a listing returns. */
export type WireEventFilter = EventFilter;

/** Per-call deadline: long enough for a loaded two-core machine, short enough for a stuck master. */
export const MASTER_CALL_TIMEOUT_MS = 15_000;

/** Where the master is, and how to call it. */
export interface MasterClientOptions {
  /**
   * host:port of the master; with several masters on etcd, their addresses comma-separated: calls
   * go to the leader, found from a follower's refusal or by trying the next address.
   */
  readonly address: string;
  /** The shared token, when the master requires one ('' counts as none). */
  readonly token?: string | undefined;
  /** Deadline of each call. @default MASTER_CALL_TIMEOUT_MS */
  readonly callTimeoutMs?: number | undefined;
  /** grpc-js interceptors run around every call (tracing, metrics, counting calls in tests). */
  readonly interceptors?: readonly Interceptor[] | undefined;
  /** Mutual TLS: the grid CA, and this client's certificate and key (`--tls-*`). */
  readonly tls?: TlsMaterial | undefined;
}

/** The spec a master holds. */
export interface AppliedSpec {
  /** Canonical JSON; '' when no spec is applied (never was, or deleted). */
  readonly specJson: string;
  readonly generation: number;
  readonly appliedAtMs: number;
}

/** What ApplySpec answered. */
export interface ApplyOutcome {
  readonly plan: Plan;
  /** The generation in force (unchanged on a dry run, or when the spec is unchanged). */
  readonly generation: number;
  /** True when the stored spec changed (never on a dry run). */
  readonly changed: boolean;
}

/** What PromoteNode answered: a completed handover. */
export interface PromoteOutcome {
  readonly cluster: string;
  readonly nodeId: string;
  readonly previousLeader: string;
  readonly term: number;
  /** The log position handed over. */
  readonly logPosition: number;
}

/** What RestartNode answered. */
export interface RestartOutcome {
  readonly node: GridNode;
  /** The new leader when the restarted node led and handed over first; '' otherwise. */
  readonly handedOverTo: string;
}

/** A handover waits up to 10 s for the replica plus its own steps; a restart adds a stop and a start. */
const PROMOTE_TIMEOUT_MS = 60_000;
const RESTART_TIMEOUT_MS = 120_000;

/** Callbacks of {@link MasterClient.watchEvents}. */
export interface WatchHandlers {
  onEvent(e: WireEvent): void;
  /** The stream starts later than asked: retention removed the events in between. */
  onTruncated?(requested: number, start: number): void;
  /** Several masters: the watch moved from master `from` to another (`to`), going on with no gap. */
  onSwitch?(to: MasterSwitch, from: string): void;
}

/** Where a watch given several masters went on after its master was lost. */
export interface MasterSwitch {
  /** The master the watch follows now. */
  readonly address: string;
  /** True when that master leads. */
  readonly leading: boolean;
  /** The leader's address as that master knows it; '' when none leads now. */
  readonly leader: string;
  /** Since when (ms since the epoch) the leader leads, when `address` leads; else 0. */
  readonly leaderSinceMs: number;
}

/** Method names of the generated client that are unary calls. */
type UnaryName = {
  [K in keyof GridMasterClient]: GridMasterClient[K] extends (req: infer _R, md: never, opts: never, cb: never) => unknown ? K : never;
}[keyof GridMasterClient];
type RequestOf<K extends UnaryName> = Parameters<GridMasterClient[K]>[0];
type ResponseOf<K extends UnaryName> = Parameters<GridMasterClient[K]> extends [unknown, ...unknown[], infer CB]
  ? CB extends (err: never, res: infer R) => void
    ? R
    : never
  : never;

/** One channel to a master; close it when done, or use {@link withMaster}. */
export class MasterClient {
  /** The master calls go to now (the leader, once found, when several were given). */
  #address: string;
  readonly #addresses: readonly string[];
  readonly #clients = new Map<string, GridMasterClient>();
  readonly #interceptors: readonly Interceptor[] | undefined;
  readonly #credentials: ChannelCredentials;
  readonly #channelOptions: ReturnType<typeof clientChannelOptions>;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;

  constructor(opts: MasterClientOptions) {
    this.#addresses = splitMasters(opts.address);
    this.#address = this.#addresses[0] ?? opts.address;
    this.#token = opts.token === '' ? undefined : opts.token;
    this.#timeoutMs = opts.callTimeoutMs ?? MASTER_CALL_TIMEOUT_MS;
    this.#interceptors = opts.interceptors;
    // One TLS source for every master's channel: the same credentials, rotated in one place.
    this.#credentials = opts.tls === undefined ? insecureCredentials : tlsChannelCredentials(new TlsSource(opts.tls), { role: 'master' });
    this.#channelOptions = clientChannelOptions(opts.tls === undefined ? {} : TLS_CHANNEL_OPTIONS);
  }

  /** host:port of the master calls go to now. */
  get address(): string {
    return this.#address;
  }

  /** The channel to the current master, opened on first use. */
  get #client(): GridMasterClient {
    let c = this.#clients.get(this.#address);
    if (c === undefined) {
      const interceptors = this.#interceptors === undefined ? {} : { interceptors: [...this.#interceptors] };
      c = new GridMasterClient(channelTarget(this.#address), this.#credentials, { ...this.#channelOptions, ...interceptors });
      this.#clients.set(this.#address, c);
    }
    return c;
  }

  /** The applied spec. */
  async getSpec(): Promise<AppliedSpec> {
    const { specJson, generation, appliedAtMs } = await this.call('getSpec', {});
    return { specJson, generation, appliedAtMs };
  }

  /**
   * Plans and, unless `dryRun`, stores `specJson`; the master's reconciler then converges to it.
   * @throws ClientError SPEC_INVALID, without sending it, for a spec over {@link MAX_SPEC_BYTES}
   * (the transport would refuse it with a less useful message); STALE_GENERATION when
   * `expectedGeneration` is not the applied one; SPEC_INVALID for a spec the master refuses.
   */
  async applySpec(specJson: string, expectedGeneration?: number, dryRun = false): Promise<ApplyOutcome> {
    const tooBig = specSizeProblem(specJson);
    if (tooBig !== undefined) {
      throw new ClientError('SPEC_INVALID', `spec_json: not sent to master ${this.address}: ${tooBig}`, { field: 'spec_json', limit: MAX_SPEC_BYTES, reason: tooBig });
    }
    const res = await this.call('applySpec', { specJson, expectedGeneration, dryRun });
    return { plan: planFromWire(res.plan), generation: res.generation, changed: res.changed };
  }

  /**
   * Removes the applied spec, named by its generation and (when not empty) its grid's name; the
   * master then stops its nodes. Returns the new generation.
   */
  async deleteSpec(expectedGeneration: number | undefined, gridName = ''): Promise<number> {
    return (await this.call('deleteSpec', { expectedGeneration, gridName })).generation;
  }

  /** Nodes as their agents last reported them, optionally of one agent or cluster only. */
  async listNodes(filter: { readonly agentId?: string; readonly cluster?: string } = {}): Promise<GridNode[]> {
    const { nodes } = await this.call('listNodes', { agentId: filter.agentId ?? '', cluster: filter.cluster ?? '' });
    return nodes.map((n, i) => nodeFromWire(n, `nodes[${i}]`));
  }

  /**
   * Hands the leadership of the node's cluster to it (a caught-up replica) with no acknowledged
   * write lost. @throws ClientError NOT_FOUND for an unknown node, FAILED_PRECONDITION saying why
   * it cannot be promoted (not a replica of a leader-replicas cluster, not running, not caught up).
   */
  async promoteNode(nodeId: string): Promise<PromoteOutcome> {
    const r = await this.call('promoteNode', { nodeId }, Math.max(this.#timeoutMs, PROMOTE_TIMEOUT_MS));
    return { cluster: r.cluster, nodeId: r.nodeId, previousLeader: r.previousLeader, term: r.term, logPosition: r.logPosition };
  }

  /**
   * Restarts the node in place, keeping its data; a leader with a caught-up replica hands over
   * first. @throws ClientError NOT_FOUND for an unknown node, or the failure of a step.
   */
  async restartNode(nodeId: string): Promise<RestartOutcome> {
    const r = await this.call('restartNode', { nodeId }, Math.max(this.#timeoutMs, RESTART_TIMEOUT_MS));
    if (r.node === undefined) throw new ClientError('MASTER_ANSWER_INVALID', `node: missing from the RestartNode answer of master ${this.address}`, { field: 'node' });
    return { node: nodeFromWire(r.node), handedOverTo: r.handedOverTo };
  }

  /** Agent and node counts, per-cluster health and the reconciler's progress. */
  async getClusterStatus(): Promise<GridStatus> {
    return statusFromWire(await this.call('getClusterStatus', {}));
  }

  /**
   * Cordons `agentId`: the master places no new node on it, its nodes stay. Kept by the master
   * across restarts; a second call with another reason replaces the reason.
   * @throws ClientError NOT_FOUND for an agent neither registered nor declared in the applied
   * spec; INVALID_ARGUMENT for a malformed id or a reason over 256 characters.
   */
  async cordonAgent(agentId: string, reason = ''): Promise<CordonOutcome> {
    const res = await this.call('cordonAgent', { agentId, reason });
    return { cordon: cordonFromWire(res.cordon), changed: res.changed };
  }

  /**
   * Drains `agentId`: cordons it and has the master move its nodes of declared clusters to other
   * agents, under their update policy for `deadlineMs` (0: 5 minutes), unpaced after that.
   * Resolves once the drain is recorded, not when it is done (watch ListNodes of the agent).
   * @throws ClientError as {@link cordonAgent}; INVALID_ARGUMENT for a deadline below 0 or over 24 h.
   */
  async drainAgent(agentId: string, deadlineMs = 0, reason = ''): Promise<CordonOutcome> {
    const res = await this.call('drainAgent', { agentId, deadlineMs, reason });
    return { cordon: cordonFromWire(res.cordon), changed: res.changed };
  }

  /**
   * Lifts the operator's cordon of `agentId` (and ends a drain). An agent the applied spec cordons stays cordoned:
   * the outcome's `cordon` says so.
   * @throws ClientError as {@link cordonAgent}.
   */
  async uncordonAgent(agentId: string): Promise<CordonOutcome> {
    const res = await this.call('uncordonAgent', { agentId });
    return { cordon: cordonFromWire(res.cordon), changed: res.changed };
  }

  /** Index of the newest event (0 when there is none): a watch from the next one sees only what follows. */
  async lastEventIndex(): Promise<number> {
    // A read: safe to send on after any failure (a master that died mid-call, ECONNRESET).
    return (await this.#call('listEvents', { filter: undefined, sinceIndex: 0, sinceUs: 0, untilUs: 0, limit: 1 }, this.#timeoutMs, true)).lastIndex;
  }

  /**
   * Follows WatchEvents from `fromIndex` until `signal` aborts (also before the call) or the master
   * ends the stream. Resolves on a clean end or an abort; rejects with a ClientError otherwise.
   *
   * Given several masters (on etcd, sharing one event log), the watch outlives the master it is
   * on: when that master dies or drains, it goes on at another one that answers, from the index
   * after the last event delivered (no gap, no repeat), and tells `onSwitch`.
   */
  watchEvents(fromIndex: number, filter: WireEventFilter | undefined, handlers: WatchHandlers, signal: AbortSignal): Promise<void> {
    // An abort that came before the stream exists has no stream to cancel: the watch would run on.
    if (signal.aborted) return Promise.resolve();
    if (this.#addresses.length < 2) {
      return this.#watch(fromIndex, filter, handlers, signal).catch((err: unknown) => {
        throw classifyMasterError(err, this.address, 'WatchEvents');
      });
    }
    return this.#follow(fromIndex, filter, handlers, signal);
  }

  async #follow(fromIndex: number, filter: WireEventFilter | undefined, handlers: WatchHandlers, signal: AbortSignal): Promise<void> {
    let next = fromIndex;
    const tracked: WatchHandlers = {
      onEvent: (e) => {
        next = e.index + 1;
        handlers.onEvent(e);
      },
      onTruncated: (requested, start) => {
        next = Math.max(next, start);
        handlers.onTruncated?.(requested, start);
      },
    };
    // A cheap call finds a master that answers first (any: every master serves the shared log).
    // The caller may have listed the log at a master that died since: moving on is a switch too.
    const listedAt = this.address;
    await this.lastEventIndex();
    if (this.address !== listedAt && !signal.aborted) handlers.onSwitch?.(await this.#describe(this.address), listedAt);
    for (;;) {
      const on = this.address;
      try {
        await this.#watch(next, filter, tracked, signal);
      } catch (err) {
        const e = err as { code?: number; details?: string };
        // 14 = UNAVAILABLE: the master died, drains or was cut off; anything else is the answer.
        if (signal.aborted) return;
        if (e.code !== 14) throw classifyMasterError(err, on, 'WatchEvents');
      }
      if (signal.aborted) return;
      // The stream ended or broke: go on at a master that answers (the next one, or the leader named).
      this.#address = this.#addresses[(this.#addresses.indexOf(on) + 1) % this.#addresses.length] ?? on;
      await this.lastEventIndex();
      if (signal.aborted) return;
      handlers.onSwitch?.(await this.#describe(this.address), on);
    }
  }

  /** Who `address` is, for a watch that moved to it: the leader (since when) or a follower. */
  async #describe(address: string): Promise<MasterSwitch> {
    const client = this.#client;
    try {
      // A follower answers GetClusterStatus with the leader's (it asks the leader), or refuses naming it.
      const res = await unary(client.getClusterStatus as unknown as Parameters<typeof unary<object, GetClusterStatusResponse>>[0], client, {}, this.#token, 3000);
      const leader = res.masters.find((m) => m.leading);
      const leading = leader === undefined || leader.address === address;
      return { address, leading, leader: leader?.address ?? address, leaderSinceMs: leading ? (leader?.sinceMs ?? 0) : 0 };
    } catch (err) {
      const details = (err as { details?: string }).details ?? '';
      return { address, leading: false, leader: leaderHint(details) ?? '', leaderSinceMs: 0 };
    }
  }

  #watch(fromIndex: number, filter: WireEventFilter | undefined, handlers: WatchHandlers, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const stream: ClientReadableStream<WatchEventsResponse> = this.#client.watchEvents({ fromIndex, filter }, authMetadata(this.#token));
      const onAbort = (): void => stream.cancel();
      signal.addEventListener('abort', onAbort, { once: true });
      const finish = (err?: unknown): void => {
        signal.removeEventListener('abort', onAbort);
        if (err === undefined || signal.aborted) resolve();
        else reject(err);
      };
      stream.on('data', (m: WatchEventsResponse) => {
        if (m.start !== undefined && m.start.truncated) handlers.onTruncated?.(m.start.requestedIndex, m.start.startIndex);
        if (m.event !== undefined) handlers.onEvent(m.event);
      });
      stream.on('error', (err) => finish(err));
      stream.on('end', () => finish());
    });
  }

  /** Any other unary RPC by its method name, e.g. `call('listAgents', {})`, answered in wire types. */
  call<K extends UnaryName>(method: K, request: RequestOf<K>, timeoutMs = this.#timeoutMs): Promise<ResponseOf<K>> {
    return this.#call(method, request, timeoutMs, false);
  }

  async #call<K extends UnaryName>(method: K, request: RequestOf<K>, timeoutMs: number, idempotent: boolean): Promise<ResponseOf<K>> {
    // With several masters, a call refused by a follower (or by no master, mid-failover) goes to
    // the leader it names or the next address, until the call's own deadline.
    const until = Date.now() + timeoutMs;
    for (let tries = 1; ; tries++) {
      const client = this.#client;
      const fn = client[method] as unknown as Parameters<typeof unary<RequestOf<K>, ResponseOf<K>>>[0];
      try {
        return await unary(fn, client, request, this.#token, Math.max(1000, until - Date.now()));
      } catch (err) {
        const e = err as { code?: number; details?: string };
        // A read moves on after a broken connection or a timeout too (not after a refusal: a bad token).
        const next = nextMaster(this.#addresses, this.#address, e.code, e.details ?? '', idempotent && (e.code === 14 || e.code === 4));
        if (next === undefined || Date.now() >= until) throw classifyMasterError(err, this.address, `${method.charAt(0).toUpperCase()}${method.slice(1)}`);
        this.#address = next;
        // Once round the list without a leader: one is being elected.
        if (tries % this.#addresses.length === 0) await sleep(Math.min(500, Math.max(0, until - Date.now())));
      }
    }
  }

  /** Closes the channels; calls still running fail. */
  close(): void {
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
  }
}

/** Opens a client, runs `fn` with it, and always closes it. */
export async function withMaster<T>(opts: MasterClientOptions, fn: (master: MasterClient) => Promise<T>): Promise<T> {
  const master = new MasterClient(opts);
  try {
    return await fn(master);
  } finally {
    master.close();
  }
}
