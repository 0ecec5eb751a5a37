import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { AgentBeat, BeatAnswer } from '../common/grid-types.js';

/** What a heartbeat call tells its stream: each answer in order, a failure, the master's end. */
export interface BeatListeners {
  answer(answer: BeatAnswer): void;
  error(err: ServiceError): void;
  end(): void;
}

/** One open HeartbeatStream call, in domain terms. */
export interface BeatCall {
  write(beat: AgentBeat): void;
  cancel(): void;
}

/** Opens the call with its listeners in place (the wire edge, master-connection.ts, adapts gRPC's). */
export type OpenBeatCall = (listeners: BeatListeners) => BeatCall;

/**
 * One long-lived HeartbeatStream to the master: each beat is a message on it, answered in order,
 * instead of a unary call that sets up an HTTP/2 stream every time. Broken for good after any
 * error: the caller drops it and opens a new one.
 */
export class HeartbeatStream {
  private readonly call: BeatCall;
  private readonly waiting: Array<{ resolve: (r: BeatAnswer) => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;

  /**
   * @param onBroken called once when the master ends the stream or it fails (not after
   * {@link close}), before pending beats are rejected: the link learns at once that the master
   * went away, not at its next beat.
   */
  constructor(
    open: OpenBeatCall,
    private readonly onBroken: (err: ServiceError) => void = () => undefined,
  ) {
    this.call = open({
      answer: (res) => this.waiting.shift()?.resolve(res),
      error: (err) => this.fail(err),
      end: () => this.fail(Object.assign(new Error('heartbeat stream ended by the master'), { code: GrpcStatus.UNAVAILABLE, details: 'heartbeat stream ended' })),
    });
  }

  /** Sends one beat; resolves with the master's answer, rejects on a stream error or after `timeoutMs`. */
  send(beat: AgentBeat, timeoutMs: number): Promise<BeatAnswer> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<BeatAnswer>((resolve, reject) => {
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
      this.call.write(beat);
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
