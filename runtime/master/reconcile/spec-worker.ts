/**
 * The master's spec worker: one long-lived worker thread that runs ApplySpec's spec work (parse,
 * validate, compile, plan; see spec-job.ts), so that a huge or hostile spec, which may cost a
 * second of CPU at the spec limits, never blocks the event loop that serves heartbeats. Started on
 * the first job (a master that is never sent a spec pays nothing), one job at a time, and each job
 * bounded in time: a job over the limit terminates the thread, and the next job starts a fresh one.
 */
import { Worker } from 'node:worker_threads';
import { RuntimeError } from '../../errors.js';
import { silentLogger, type Logger } from '../../common/logger.js';
import { deserializeError, type SerializedError, type SpecJob, type SpecJobResult } from './spec-job.js';

/** How long one job may run before its thread is terminated: ten times the worst valid spec. */
export const SPEC_JOB_TIMEOUT_MS = 10_000;

/** Heap of the worker thread: a hostile spec that exhausts it fails alone, the master lives on. */
export const SPEC_WORKER_HEAP_MB = 1024;

export interface SpecWorkerOptions {
  /** @see SPEC_JOB_TIMEOUT_MS */
  readonly timeoutMs?: number;
  /** The worker's entry module; the compiled spec-worker-main.js next to this file by default. */
  readonly entry?: URL;
  readonly logger?: Logger;
}

type Reply = { readonly id: number; readonly ok: true; readonly result: SpecJobResult } | { readonly id: number; readonly ok: false; readonly error: SerializedError };

interface Pending {
  readonly id: number;
  readonly resolve: (r: SpecJobResult) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** Runs {@link SpecJob}s on a worker thread, one at a time, each within a time limit. */
export class SpecWorker {
  private worker: Worker | undefined;
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly entry: URL;
  private readonly logger: Logger;

  constructor(o: SpecWorkerOptions = {}) {
    this.timeoutMs = o.timeoutMs ?? SPEC_JOB_TIMEOUT_MS;
    this.entry = o.entry ?? new URL('./spec-worker-main.js', import.meta.url);
    this.logger = o.logger ?? silentLogger;
  }

  /**
   * Runs `job` after the jobs before it.
   * @throws GridError as the job threw it (SPEC_INVALID with its diagnostics); DEADLINE_EXCEEDED
   * when it ran over the time limit; CAPACITY_EXCEEDED when it ran out of the worker's heap;
   * INTERNAL when the worker died or the master is shutting down.
   */
  run(job: SpecJob): Promise<SpecJobResult> {
    const run = this.queue.then(() => this.runNow(job));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Terminates the worker; jobs still queued or running fail. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    this.settle(new RuntimeError('INTERNAL', 'the master is shutting down; the spec was not applied'));
    if (w !== undefined) await w.terminate();
  }

  private runNow(job: SpecJob): Promise<SpecJobResult> {
    if (this.closed) return Promise.reject(new RuntimeError('INTERNAL', 'the master is shutting down; the spec was not applied'));
    const w = this.start();
    return new Promise<SpecJobResult>((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => this.timedOut(w), this.timeoutMs);
      this.pending = { id, resolve, reject, timer };
      try {
        w.postMessage({ id, job });
      } catch (err) {
        this.settle(err as Error);
      }
    });
  }

  private start(): Worker {
    if (this.worker !== undefined) return this.worker;
    const w = new Worker(this.entry, { resourceLimits: { maxOldGenerationSizeMb: SPEC_WORKER_HEAP_MB } });
    // Idle, it must not keep the master alive; the master's own server does while it serves.
    w.unref();
    this.worker = w;
    this.logger.debug({ threadId: w.threadId }, 'spec worker started');
    // Each listener checks it still belongs to the current worker: a terminated one's late
    // events must not touch the job of its successor.
    w.on('message', (reply: Reply) => {
      if (this.worker !== w || this.pending?.id !== reply.id) return;
      if (reply.ok) this.settle(undefined, reply.result);
      else this.settle(deserializeError(reply.error));
    });
    w.on('error', (err: Error & { code?: string }) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      this.logger.error({ err }, 'spec worker failed; the next spec starts a new one');
      this.settle(
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new RuntimeError('CAPACITY_EXCEEDED', `spec_json: checking this spec needed more than the master's ${SPEC_WORKER_HEAP_MB} MB for spec work; nothing was applied`, { field: 'spec_json', limitMb: SPEC_WORKER_HEAP_MB })
          : new RuntimeError('INTERNAL', `spec worker failed: ${err.message}`),
      );
    });
    w.on('exit', (code) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      this.settle(new RuntimeError('INTERNAL', `spec worker exited (code ${code}) while checking the spec; nothing was applied`));
    });
    return w;
  }

  private timedOut(w: Worker): void {
    if (this.worker === w) this.worker = undefined;
    this.logger.warn({ limitMs: this.timeoutMs }, `spec work ran over its limit of ${this.timeoutMs} ms; spec worker terminated`);
    this.settle(
      new RuntimeError('DEADLINE_EXCEEDED', `spec_json: checking and planning this spec took longer than the master's limit of ${this.timeoutMs} ms for spec work; nothing was applied`, {
        field: 'spec_json',
        limitMs: this.timeoutMs,
      }),
    );
    void w.terminate();
  }

  /** Ends the running job with `err`, or with `result`. */
  private settle(err: Error | undefined, result?: SpecJobResult): void {
    const p = this.pending;
    if (p === undefined) return;
    this.pending = undefined;
    clearTimeout(p.timer);
    if (err !== undefined) p.reject(err);
    else p.resolve(result!);
  }
}
