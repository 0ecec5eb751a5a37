import { status as GrpcStatus, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import type { GridMasterClient, HeartbeatRequest, HeartbeatResponse } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { authMetadata } from '../../client/transport.js';

/**
 * One long-lived HeartbeatStream to the master: each beat is a message on it, answered in order,
 * instead of a unary call that sets up an HTTP/2 stream every time. Broken for good after any
 * error: the caller drops it and opens a new one.
 */
export class HeartbeatStream {
  private readonly call: ClientDuplexStream<HeartbeatRequest, HeartbeatResponse>;
  private readonly waiting: Array<{ resolve: (r: HeartbeatResponse) => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;

  /**
   * @param onBroken called once when the master ends the stream or it fails (not after
   * {@link close}), before pending beats are rejected: the link learns at once that the master
   * went away, not at its next beat.
   */
  constructor(
    client: GridMasterClient,
    token: string | undefined,
    private readonly onBroken: (err: ServiceError) => void = () => undefined,
  ) {
    this.call = client.heartbeatStream(authMetadata(token));
    this.call.on('data', (res: HeartbeatResponse) => this.waiting.shift()?.resolve(res));
    this.call.on('error', (err: ServiceError) => this.fail(err));
    this.call.on('end', () => this.fail(Object.assign(new Error('heartbeat stream ended by the master'), { code: GrpcStatus.UNAVAILABLE, details: 'heartbeat stream ended' })));
  }

  /** Sends one beat; resolves with the master's answer, rejects on a stream error or after `timeoutMs`. */
  send(req: HeartbeatRequest, timeoutMs: number): Promise<HeartbeatResponse> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<HeartbeatResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = Object.assign(new Error('heartbeat not answered in time'), { code: GrpcStatus.DEADLINE_EXCEEDED, details: 'heartbeat not answered in time' });
        this.fail(err);
      }, timeoutMs);
      this.waiting.push({
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.call.write(req);
    });
  }

  /** Ends the stream (idempotent). */
  close(): void {
    if (this.failure === undefined) this.failure = new Error('heartbeat stream closed');
    this.call.cancel();
  }

  private fail(err: Error): void {
    if (this.failure === undefined) {
      this.failure = err;
      this.onBroken(err as ServiceError);
    }
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
    this.call.cancel();
  }
}
