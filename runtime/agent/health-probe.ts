import { credentials, type ChannelCredentials, type ChannelOptions, type ServiceError } from '@grpc/grpc-js';
import { HealthClient, type HealthCheckRequest, type HealthCheckResponse } from '../common/health.js';
import { sleep } from '../../client/transport.js';

/**
 * gRPC health checks of one node (grpc.health.v1 Check on '' = the whole server). The channel
 * reconnects every 10 ms instead of after grpc-js' default 1 s backoff: while a node starts, its
 * first connects are refused, and a check made while the channel waits out its backoff fails
 * without trying. With the backoff growing to 50 ms, the first check to reach a node that had just
 * begun to accept came on average ~25 ms after it could have (a refused connect on loopback costs
 * microseconds; the supervisor closes a node's probe once the node has exited).
 */
export class HealthProbe {
  private readonly client: InstanceType<typeof HealthClient>;

  /** The probe's channel options (a TLS probe's dialer merges them into its own). */
  static readonly CHANNEL_OPTIONS: ChannelOptions = {
    'grpc.initial_reconnect_backoff_ms': 10,
    'grpc.min_reconnect_backoff_ms': 10,
    'grpc.max_reconnect_backoff_ms': 10,
    // A private subchannel: no backoff state shared with other clients of the same address.
    'grpc.use_local_subchannel_pool': 1,
  };

  /** `tls`: the channel of a node under mutual TLS (the agent's certificate); plaintext without. */
  constructor(
    readonly address: string,
    tls?: { credentials: ChannelCredentials; options: ChannelOptions },
  ) {
    this.client = new HealthClient(address, tls?.credentials ?? credentials.createInsecure(), tls?.options ?? HealthProbe.CHANNEL_OPTIONS);
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
