import { status as GrpcStatus } from '@grpc/grpc-js';
import type { HealthProbe } from './health-probe.js';

/**
 * A running node's health as the node itself tells it, read once per liveness interval.
 *
 * One grpc.health.v1 Watch stream per node: the node sends its status when it changes (NOT_SERVING
 * arrives at once), and the probe's channel pings the connection every interval
 * (HealthProbe.channelOptions). A node that leaves a ping unanswered for its timeout (hung, frozen,
 * its host gone) loses the connection, so the stream ends, so the node reads as not serving until
 * a new stream hears SERVING. What a Check per interval found, this finds too, without a call per
 * interval: in an idle agent with four nodes those calls were most of what it allocated, and each
 * node's only work (measured in BENCHMARKS.md).
 *
 * A server without Watch (a storage binary that implements Check only) answers UNIMPLEMENTED: its
 * node is then checked with one Check per interval, as before.
 */
export class HealthWatch {
  #serving = false;
  /** Cancels the open stream; undefined while none is open. */
  #cancel: (() => void) | undefined;
  /** The node has no Watch: a Check per interval. */
  #checksOnly = false;
  #closed = false;

  /** Opens the stream at once; `checkTimeoutMs` bounds a Check of a node without Watch. */
  constructor(
    private readonly probe: HealthProbe,
    private readonly checkTimeoutMs: number,
  ) {
    this.open();
  }

  /**
   * Whether the node serves now: the last status its open stream sent is SERVING. A stream that
   * ended is opened again here, and the interval in which it was not open counts as not serving.
   */
  serving(): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    if (this.#checksOnly) return this.probe.check(this.checkTimeoutMs);
    if (this.#cancel === undefined) this.open();
    return Promise.resolve(this.#serving);
  }

  /** Ends the stream for good (the run ended). */
  close(): void {
    this.#closed = true;
    this.#cancel?.();
    this.#cancel = undefined;
    this.#serving = false;
  }

  private open(): void {
    this.#serving = false;
    this.#cancel = this.probe.watch(
      (serving) => (this.#serving = serving),
      (code) => {
        this.#serving = false;
        this.#cancel = undefined;
        if (code === GrpcStatus.UNIMPLEMENTED) this.#checksOnly = true;
      },
    );
  }
}
