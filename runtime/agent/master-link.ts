import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { backoffDelay, leaderHint, nextMaster, sleep, splitMasters, statusName, type TlsSource } from '../../client/transport.js';
import type { AgentDescriptor, BeatAnswer, GridPolicy, NodeEvent, NodeView } from '../common/grid-types.js';
import type { Logger } from '../common/logger.js';
import { sameValues } from './grid-policy.js';
import type { HeartbeatStream } from './heartbeat-stream.js';
import { MasterConnection } from './master-connection.js';
import { monotonicMs } from './monotonic-clock.js';

/** Connection to the master, as the agent sees it. */
export type MasterLinkState = 'connecting' | 'registered' | 'disconnected' | 'stopped';

export interface MasterLinkOptions {
  /** HOST:PORT of the master; several comma-separated when masters share etcd (the link finds the leader). */
  readonly masterEndpoint: string;
  readonly token: string | undefined;
  /** The agent's certificate and the grid CA: mutual TLS to the master. */
  readonly tls?: TlsSource | undefined;
  readonly info: AgentDescriptor;
  /**
   * Our own heartbeat interval: the fallback before a spec sets one (the master's, from
   * RegisterAgent and each heartbeat answer, wins then when shorter).
   */
  readonly heartbeatIntervalMs: number;
  /**
   * Told when the grid's policy changes (an applied, changed or deleted spec), once per change,
   * after the link has switched to its heartbeat interval.
   */
  readonly onPolicy?: (policy: GridPolicy) => void;
  /**
   * Told after each registration and heartbeat the master answered, with when that call was sent
   * (monotonic ms, monotonic-clock.ts): the master saw the agent no earlier than that, so it holds the
   * agent online until at least `sentAtMs + policy.offlineAfterMs`. Write leases are granted from it.
   */
  readonly onAnswered?: (sentAtMs: number, policy: GridPolicy) => void;
  /** Told the revoked node certificates of each answer (undefined from a master that sends none). */
  readonly onRevokedNodes?: (serials: readonly string[] | undefined) => void;
  /** Reconnect backoff while the master is away. @default 200 -> 5000 ms */
  readonly reconnectInitialMs?: number;
  readonly reconnectMaxMs?: number;
  /** The agent's current nodes, sent on register and every heartbeat. */
  readonly nodes: () => NodeView[];
  readonly logger: Logger;
}

/** Events waiting for the master, at most this many (oldest dropped first). */
const MAX_QUEUED_EVENTS = 1000;
const CALL_TIMEOUT_MS = 5000;
/** Event-report failures worth retrying with the same batch; anything else drops it. */
const RETRY_LATER: ReadonlySet<number> = new Set([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.RESOURCE_EXHAUSTED,
  GrpcStatus.ABORTED,
  GrpcStatus.CANCELLED,
  GrpcStatus.UNAUTHENTICATED,
]);

/**
 * Registers the agent with the master and keeps it known there: heartbeats with the node list;
 * NOT_FOUND (master restarted and forgot us) -> re-register at once; unreachable -> reconnect with
 * exponential backoff and jitter, then re-register with the nodes, so a restarted master relearns
 * them with the same pids. Node events are pushed fire-and-forget with a small retry queue.
 */
export class MasterLink {
  private connection: MasterConnection | undefined;
  private stateValue: MasterLinkState = 'connecting';
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly events: NodeEvent[] = [];
  private flushing = false;
  private eventsUnsupportedLogged = false;
  private intervalMs: number;
  private stream: HeartbeatStream | undefined;
  /** Set when the master answers HeartbeatStream with UNIMPLEMENTED (an older master): unary beats. */
  private streamUnsupported = false;
  /** Ends the loop's wait between beats early: the link lost the master and must act now. */
  private wakeUp: (() => void) | undefined;
  /** The grid's policy last followed; none set until a spec is applied. */
  private policy: GridPolicy = { generation: 0 };
  /** The masters given, and the one the link talks to (the leader, once found). */
  private readonly endpoints: readonly string[];
  private endpoint: string;

  constructor(private readonly opts: MasterLinkOptions) {
    this.intervalMs = opts.heartbeatIntervalMs;
    this.endpoints = splitMasters(opts.masterEndpoint);
    this.endpoint = this.endpoints[0] ?? opts.masterEndpoint;
  }

  /** The master the link talks to now. */
  get masterEndpoint(): string {
    return this.endpoint;
  }

  /**
   * With several masters: after `e`, talk to the leader it names or the next master. Returns true
   * when a leader was named (worth trying at once).
   */
  private switchMaster(e: ServiceError): boolean {
    const next = nextMaster(this.endpoints, this.endpoint, e.code, e.details ?? '', true);
    if (next === undefined || next === this.endpoint) return false;
    this.opts.logger.info({ from: this.endpoint, to: next }, `switching to master ${next}`);
    this.endpoint = next;
    return leaderHint(e.details ?? '') !== undefined;
  }

  get state(): MasterLinkState {
    return this.stateValue;
  }

  /** The interval the link beats at now. */
  get heartbeatIntervalMs(): number {
    return this.intervalMs;
  }

  /**
   * Follows what the master answered: the spec's heartbeat interval when a spec sets one, else our
   * own (or the master's when shorter); the grid's policy is passed on once per change.
   */
  private follow(masterIntervalMs: number, sent: GridPolicy | undefined): void {
    // An older master sends no policy: the same as "no spec", our own config applies.
    const policy = sent ?? { generation: this.policy.generation };
    this.intervalMs = policy.heartbeatIntervalMs ?? (masterIntervalMs > 0 ? Math.min(this.opts.heartbeatIntervalMs, masterIntervalMs) : this.opts.heartbeatIntervalMs);
    const changed = !sameValues(policy, this.policy);
    this.policy = policy;
    if (changed) this.opts.onPolicy?.(policy);
  }

  private master(): MasterConnection {
    this.connection ??= new MasterConnection(this.endpoint, this.opts.token, this.opts.tls);
    return this.connection;
  }

  /** Drops the channel after an error so the next call starts a fresh connection. */
  private resetClient(): void {
    this.closeStream();
    this.connection?.close();
    this.connection = undefined;
  }

  /** Starts the register/heartbeat loop in the background. */
  start(): void {
    this.loop ??= this.run().catch((err: unknown) => {
      if (!this.abort.signal.aborted) this.opts.logger.error({ err: (err as Error).message }, 'master link loop ended');
    });
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let attempt = 0;
    while (!signal.aborted) {
      if (this.stateValue !== 'registered') {
        try {
          await this.register();
          attempt = 0;
        } catch (err) {
          const e = err as ServiceError;
          const tried = this.endpoint;
          // Named the leader: go there at once; another master to try: after a short pause.
          const toLeader = this.switchMaster(e);
          const delay = toLeader ? 20 : backoffDelay(attempt++, { initialMs: this.opts.reconnectInitialMs ?? 200, maxMs: this.opts.reconnectMaxMs ?? 5000, jitter: 0.5 });
          const log = attempt === 1 ? this.opts.logger.warn.bind(this.opts.logger) : this.opts.logger.debug.bind(this.opts.logger);
          log({ master: tried, code: statusName(e.code ?? GrpcStatus.UNKNOWN), err: e.details ?? e.message, retryInMs: delay }, 'cannot register with the master; retrying');
          this.stateValue = 'disconnected';
          this.resetClient();
          await sleep(delay, signal);
          continue;
        }
      }
      await this.nap(this.intervalMs, signal);
      if (this.stateValue !== 'registered') continue;
      await this.heartbeat();
    }
  }

  /** Waits `ms` between beats, or less when {@link wakeUp} is called or the link stops. */
  private nap(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.wakeUp = done;
    });
  }

  /**
   * The master is gone or forgot us: NOT_FOUND -> register again at once; anything else (the
   * master ended our stream while shutting down, or is unreachable) -> reconnect with backoff.
   */
  private lost(e: ServiceError): void {
    if (e.code === GrpcStatus.NOT_FOUND) {
      this.opts.logger.info('master does not know this agent (restarted?): re-registering');
      this.stateValue = 'connecting';
    } else {
      this.opts.logger.warn(
        { master: this.endpoint, code: statusName(e.code ?? GrpcStatus.UNKNOWN), err: e.details ?? e.message },
        `lost the master (${e.details || e.message}); reconnecting`,
      );
      this.stateValue = 'disconnected';
      this.resetClient();
      this.switchMaster(e);
    }
    this.wakeUp?.();
  }

  /** The master ended our HeartbeatStream (e.g. it is shutting down): act now, not at the next beat. */
  private onStreamBroken(stream: HeartbeatStream, err: ServiceError): void {
    // UNIMPLEMENTED is handled by beat(), which falls back to unary heartbeats.
    if (this.abort.signal.aborted || this.stream !== stream || err.code === GrpcStatus.UNIMPLEMENTED) return;
    this.stream = undefined;
    if (this.stateValue === 'registered') this.lost(err);
  }

  private async register(): Promise<void> {
    const nodes = this.opts.nodes();
    const sentAtMs = monotonicMs();
    const res = await this.master().register(this.opts.info, nodes, CALL_TIMEOUT_MS);
    this.follow(res.heartbeatIntervalMs, res.policy);
    this.revokedNodes(res.revokedNodeSerials);
    const was = this.stateValue;
    this.stateValue = 'registered';
    this.opts.logger.info(
      { master: this.endpoint, masterId: res.masterId, nodes: nodes.length, heartbeatMs: this.intervalMs },
      was === 'disconnected' ? 'master is back: re-registered' : 'registered with the master',
    );
    this.answered(sentAtMs);
    void this.flushEvents();
  }

  private closeStream(): void {
    this.stream?.close();
    this.stream = undefined;
  }

  /** One beat: on the long-lived stream, or as a unary call to a master without streams. */
  private async beat(c: MasterConnection): Promise<BeatAnswer> {
    const beat = { agentId: this.opts.info.agentId, nodes: this.opts.nodes() };
    if (this.streamUnsupported) return c.heartbeat(beat, CALL_TIMEOUT_MS);
    try {
      if (this.stream === undefined) {
        const stream: HeartbeatStream = c.heartbeatStream((err) => this.onStreamBroken(stream, err));
        this.stream = stream;
      }
      return await this.stream.send(beat, CALL_TIMEOUT_MS);
    } catch (err) {
      this.closeStream();
      if ((err as ServiceError).code !== GrpcStatus.UNIMPLEMENTED) throw err;
      this.streamUnsupported = true;
      return c.heartbeat(beat, CALL_TIMEOUT_MS);
    }
  }

  private async heartbeat(): Promise<void> {
    try {
      const sentAtMs = monotonicMs();
      const res = await this.beat(this.master());
      this.follow(res.heartbeatIntervalMs, res.policy);
      this.revokedNodes(res.revokedNodeSerials);
      this.answered(sentAtMs);
      void this.flushEvents();
    } catch (err) {
      // Already handled when the stream broke (onStreamBroken), or the link is stopping.
      if (this.abort.signal.aborted || this.stateValue !== 'registered') return;
      this.lost(err as ServiceError);
    }
  }

  /** Passes the revoked node certificates on; a throwing listener does not break the link. */
  private revokedNodes(serials: readonly string[] | undefined): void {
    try {
      this.opts.onRevokedNodes?.(serials);
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'could not hand the revoked node certificates to the nodes');
    }
  }

  /** Passes a master's answer on to {@link MasterLinkOptions.onAnswered}; a throwing listener does not break the link. */
  private answered(sentAtMs: number): void {
    if (this.abort.signal.aborted) return;
    try {
      this.opts.onAnswered?.(sentAtMs, this.policy);
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'master answer listener threw');
    }
  }

  /** Queues a node event for the master; never blocks, never throws. */
  reportEvent(e: NodeEvent): void {
    this.events.push(e);
    if (this.events.length > MAX_QUEUED_EVENTS) this.events.splice(0, this.events.length - MAX_QUEUED_EVENTS);
    void this.flushEvents();
  }

  private async flushEvents(): Promise<void> {
    if (this.flushing || this.stateValue !== 'registered' || this.abort.signal.aborted) return;
    this.flushing = true;
    try {
      while (this.events.length > 0 && this.stateValue === 'registered') {
        const batch = this.events.slice(0, 100);
        try {
          await this.master().reportNodeEvents(this.opts.info.agentId, batch, CALL_TIMEOUT_MS);
        } catch (err) {
          const e = err as ServiceError;
          if (e.code === GrpcStatus.NOT_FOUND) {
            // The master forgot us (restarted): it records nothing from unknown agents. Keep the
            // batch and send it after registering again.
            if (this.stateValue === 'registered') this.lost(e);
            return;
          } else if (e.code === GrpcStatus.UNIMPLEMENTED) {
            // A master without event support: the state still travels in heartbeats.
            if (!this.eventsUnsupportedLogged) this.opts.logger.debug('master does not take node events (UNIMPLEMENTED); dropping them');
            this.eventsUnsupportedLogged = true;
          } else if (RETRY_LATER.has(e.code)) {
            return; // kept for the next heartbeat
          } else {
            // Refused as malformed: retrying the same batch would block every later event.
            this.opts.logger.warn({ code: statusName(e.code), err: e.details ?? e.message, dropped: batch.length }, 'master refused node events; dropping them');
          }
        }
        this.events.splice(0, batch.length);
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Sends pending events and UnregisterAgent (best effort, bounded), then stops the loop. Idempotent. */
  async stop(unregister: boolean, timeoutMs = 2000): Promise<void> {
    if (this.stateValue === 'stopped') return;
    const wasRegistered = this.stateValue === 'registered';
    this.abort.abort();
    await this.loop;
    this.closeStream();
    if (unregister && wasRegistered) {
      const c = this.master();
      try {
        if (this.events.length > 0) {
          await c.reportNodeEvents(this.opts.info.agentId, this.events.splice(0, 100), timeoutMs).catch(() => {});
        }
        await c.unregister(this.opts.info.agentId, timeoutMs);
        this.opts.logger.info('unregistered from the master');
      } catch (err) {
        this.opts.logger.warn({ err: (err as ServiceError).details ?? (err as Error).message }, 'could not unregister from the master');
      }
    }
    this.stateValue = 'stopped';
    this.resetClient();
  }
}
