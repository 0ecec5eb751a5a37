import { credentials, status as GrpcStatus, type ChannelCredentials, type ChannelOptions, type ClientReadableStream, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { HealthClient, type HealthCheckRequest, type HealthCheckResponse } from '../common/health.js';
import { clientChannelOptions, sleep } from '../../client/transport.js';

/** Longest a keepalive ping may go unanswered, as a Check's deadline (shorter with a shorter interval). */
const MAX_PING_TIMEOUT_MS = 2000;

/**
 * gRPC health of one node (grpc.health.v1 on '' = the whole server): Check while the node starts,
 * Watch while it runs (health-watch.ts). The channel reconnects every 10 ms instead of after
 * grpc-js' default 1 s backoff: while a node starts, its first connects are refused, and a check
 * made while the channel waits out its backoff fails without trying. With the backoff growing to
 * 50 ms, the first check to reach a node that had just begun to accept came on average ~25 ms after
 * it could have (a refused connect on loopback costs microseconds; the supervisor closes a node's
 * probe once the node has exited).
 */
export class HealthProbe {
  private readonly client: InstanceType<typeof HealthClient>;

  /**
   * The probe's channel options (a TLS probe's dialer merges them into its own). `intervalMs`, the
   * liveness interval, paces the keepalive pings that find a hung node under a Watch: a node that
   * leaves one unanswered for its timeout loses the connection, and so its Watch. Without it, no
   * pings (a probe that only checks).
   */
  static channelOptions(intervalMs?: number): ChannelOptions {
    return clientChannelOptions({
      'grpc.initial_reconnect_backoff_ms': 10,
      'grpc.min_reconnect_backoff_ms': 10,
      'grpc.max_reconnect_backoff_ms': 10,
      // A private subchannel: no backoff state shared with other clients of the same address.
      'grpc.use_local_subchannel_pool': 1,
      // A check is one attempt by design: a failure counts, the next interval asks again.
      'grpc.enable_retries': 0,
      ...(intervalMs === undefined ? {} : { 'grpc.keepalive_time_ms': intervalMs, 'grpc.keepalive_timeout_ms': HealthProbe.pingTimeoutMs(intervalMs) }),
    });
  }

  /** How long a keepalive ping, or a liveness Check, may take at this liveness interval. */
  static pingTimeoutMs(intervalMs: number): number {
    return Math.min(intervalMs, MAX_PING_TIMEOUT_MS);
  }

  /**
   * `tls`: the channel of a node under mutual TLS (the agent's certificate, its options from
   * channelOptions); plaintext without. `intervalMs`: the liveness interval (channelOptions).
   */
  constructor(
    readonly address: string,
    tls?: { credentials: ChannelCredentials; options: ChannelOptions },
    intervalMs?: number,
  ) {
    this.client = new HealthClient(address, tls?.credentials ?? credentials.createInsecure(), tls?.options ?? HealthProbe.channelOptions(intervalMs));
  }

  /** One Check: true when SERVING. Never throws. */
  check(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const req: HealthCheckRequest = { service: '' };
      (this.client as unknown as {
        check(r: HealthCheckRequest, o: { deadline: Date }, cb: (e: ServiceError | null, r?: HealthCheckResponse) => void): void;
      }).check(req, { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => resolve(!err && res?.status === 'SERVING'));
    });
  }

  /**
   * Opens a Watch of the whole server. `onStatus` hears each status the node sends (true for
   * SERVING), `onEnd` once, the gRPC status code the stream ended with: UNAVAILABLE when the
   * connection dropped or missed a keepalive ping, UNIMPLEMENTED from a server without Watch.
   * Returns the cancel, after which neither is called.
   */
  watch(onStatus: (serving: boolean) => void, onEnd: (code: GrpcStatus) => void): () => void {
    const call = (this.client as unknown as { watch(r: HealthCheckRequest): ClientReadableStream<HealthCheckResponse> }).watch({ service: '' });
    let done = false;
    call.on('data', (res: HealthCheckResponse) => {
      if (!done) onStatus(res.status === 'SERVING');
    });
    // The status event says it all; without a listener, the error event would throw.
    call.on('error', () => {});
    call.on('status', (s: StatusObject) => {
      if (done) return;
      done = true;
      onEnd(s.code);
    });
    return () => {
      if (done) return;
      done = true;
      call.cancel();
    };
  }

  /**
   * Polls every `intervalMs` until SERVING (true), `timeoutMs` elapses (false) or `signal` aborts
   * (rejects with its reason).
   */
  async waitServing(intervalMs: number, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      signal.throwIfAborted();
      if (await this.check(Math.max(50, Math.min(1000, end - Date.now())))) return true;
      signal.throwIfAborted();
      await sleep(intervalMs, signal);
    }
    return false;
  }

  close(): void {
    this.client.close();
  }
}
