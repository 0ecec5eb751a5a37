/**
 * Watches the Docker Engine's event stream for the `die` (and `oom`) events of one agent's
 * containers, so an exit is seen the moment the Engine records it instead of on a poll.
 */
import type Dockerode from 'dockerode';
import type { Logger } from '../common/logger.js';
import { silentLogger } from '../common/logger.js';
import { backoffDelay, sleep } from '../../client/transport.js';

/** One container exit as reported by the Engine. */
export interface DieEvent {
  readonly containerId: string;
  /** The container's exit status; null when the Engine did not report one. */
  readonly exitCode: number | null;
  /** Nanoseconds since the epoch, as the Engine stamped the event. */
  readonly timeNano: bigint;
  /**
   * The kernel's OOM killer ended it (an `oom` event came first): the memory limit was too small.
   * The Engine may also send the `oom` after the `die` (containerd reports the two apart): that one
   * comes as {@link DockerEventWatcherOptions.onLateOom}.
   */
  readonly oomKilled: boolean;
}

/** Options of {@link DockerEventWatcher}. */
export interface DockerEventWatcherOptions {
  /** Only containers carrying all these labels (`key=value`) are reported. */
  readonly labels: readonly string[];
  readonly onDie: (event: DieEvent) => void;
  /** An `oom` event for a container whose `die` was already reported (with `oomKilled` false). */
  readonly onLateOom?: (containerId: string) => void;
  readonly logger?: Logger;
}

interface RawEvent {
  readonly Action?: string;
  readonly id?: string;
  readonly Actor?: { readonly ID?: string; readonly Attributes?: Record<string, string> };
  readonly timeNano?: number;
  readonly time?: number;
}

/** Remembered event keys, so the overlap replayed after a reconnect is not reported twice. */
const SEEN_LIMIT = 1024;

/**
 * A reconnecting subscription to `die` events. Each (re)connection asks the Engine for events
 * `since` the last one seen: the Engine replays what happened while the stream was down, and
 * the first subscription cannot miss an exit that raced its own set-up.
 */
export class DockerEventWatcher {
  private readonly abort = new AbortController();
  private readonly seen = new Set<string>();
  /** Containers with an `oom` event whose `die` has not come yet. */
  private readonly oomed = new Set<string>();
  /** Containers whose `die` was reported without an `oom`: one may still follow. */
  private readonly diedClean = new Set<string>();
  /** Seconds (with fraction) the next subscription replays from. */
  private sinceSeconds = Math.floor(Date.now() / 1000) - 1;
  private loop: Promise<void> | undefined;
  private readonly logger: Logger;

  constructor(
    private readonly docker: Dockerode,
    private readonly opts: DockerEventWatcherOptions,
  ) {
    this.logger = opts.logger ?? silentLogger;
  }

  /** Connects once (throws if the Engine cannot be reached), then keeps the stream up in the background. */
  async start(): Promise<void> {
    if (this.loop !== undefined) return;
    const first = await this.subscribe();
    this.loop = this.run(first);
  }

  /** Ends the subscription; resolves once the background loop has stopped. Idempotent. */
  async close(): Promise<void> {
    this.abort.abort(new Error('event watcher closed'));
    await this.loop;
  }

  private subscribe(): Promise<NodeJS.ReadableStream> {
    return this.docker.getEvents({
      since: this.sinceSeconds,
      filters: { type: ['container'], event: ['die', 'oom'], label: [...this.opts.labels] },
      // dockerode forwards abortSignal to the HTTP request; its typings do not list it.
      abortSignal: this.abort.signal,
    } as Dockerode.GetEventsOptions);
  }

  private async run(first: NodeJS.ReadableStream): Promise<void> {
    let stream: NodeJS.ReadableStream | undefined = first;
    let failures = 0;
    while (!this.abort.signal.aborted) {
      try {
        stream ??= await this.subscribe();
        failures = 0;
        await this.consume(stream);
      } catch (err) {
        if (this.abort.signal.aborted) break;
        this.logger.warn({ err }, 'docker event stream failed; reconnecting');
      }
      stream = undefined;
      if (this.abort.signal.aborted) break;
      // The stream only ends when the Engine restarts or the socket breaks: back off, then resume.
      await sleep(backoffDelay(failures++, { initialMs: 100, maxMs: 5_000 }), this.abort.signal).catch(() => undefined);
    }
  }

  private consume(stream: NodeJS.ReadableStream): Promise<void> {
    return new Promise((resolve, reject) => {
      let buffered = '';
      const onAbort = (): void => {
        (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
        resolve();
      };
      this.abort.signal.addEventListener('abort', onAbort, { once: true });
      const done = (err?: Error): void => {
        this.abort.signal.removeEventListener('abort', onAbort);
        if (err !== undefined) reject(err);
        else resolve();
      };
      stream.on('data', (chunk: Buffer | string) => {
        // The Engine writes newline-delimited JSON, but a chunk may hold several events or half of one.
        buffered += chunk.toString();
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line !== '') this.handle(line);
        }
      });
      stream.on('end', () => done());
      stream.on('close', () => done());
      stream.on('error', (err: Error) => done(err));
    });
  }

  private handle(line: string): void {
    let raw: RawEvent;
    try {
      raw = JSON.parse(line) as RawEvent;
    } catch {
      this.logger.warn({ line }, 'unparseable docker event ignored');
      return;
    }
    const containerId = raw.Actor?.ID ?? raw.id;
    if ((raw.Action !== 'die' && raw.Action !== 'oom') || containerId === undefined) return;
    const timeNano = BigInt(raw.timeNano ?? (raw.time ?? 0) * 1e9);
    const key = `${raw.Action}:${containerId}:${timeNano}`;
    if (this.seen.has(key)) return;
    this.remember(key);
    if (raw.Action === 'oom') {
      if (this.diedClean.delete(containerId)) this.lateOom(containerId);
      else this.keep(this.oomed, containerId);
      return;
    }
    // Resume from this event's second on reconnect; the seen-set drops the overlap.
    this.sinceSeconds = Number(timeNano / 1_000_000_000n);
    const code = raw.Actor?.Attributes?.['exitCode'];
    const exitCode = code !== undefined && /^-?\d+$/.test(code) ? Number(code) : null;
    const oomKilled = this.oomed.delete(containerId);
    if (!oomKilled) this.keep(this.diedClean, containerId);
    try {
      this.opts.onDie({ containerId, exitCode, timeNano, oomKilled });
    } catch (err) {
      this.logger.error({ err, containerId }, 'die listener threw');
    }
  }

  private lateOom(containerId: string): void {
    try {
      this.opts.onLateOom?.(containerId);
    } catch (err) {
      this.logger.error({ err, containerId }, 'late oom listener threw');
    }
  }

  /** Adds to a bounded set of container ids (the oldest goes first). */
  private keep(set: Set<string>, containerId: string): void {
    set.add(containerId);
    if (set.size > SEEN_LIMIT) {
      const oldest = set.values().next().value;
      if (oldest !== undefined) set.delete(oldest);
    }
  }

  private remember(key: string): void {
    this.seen.add(key);
    if (this.seen.size > SEEN_LIMIT) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }
}
