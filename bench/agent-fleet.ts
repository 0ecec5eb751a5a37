/**
 * The simulated fleet split across worker threads. One isolate standing for 10,000 agents paused
 * them all at once for its own GC (~300 ms per 20 s window at 10,000 agents): a pause of the
 * simulator that the round trips counted as the master's, and one no real fleet has (an agent runs
 * alone on its host). Each worker is its own isolate with its own heap: its GC pauses only its
 * share of the agents, as one host's pause delays only its own agent.
 */
import { Worker } from 'node:worker_threads';
import { CHANNELS, CLIENT_SEMI_SPACE_MB, meterWindow, summarize, WARMUP_MS, writeTrace, type PacedBeats, type ShareBeats } from './paced-heartbeats.js';
import type { FleetStart, FleetWorkerData } from './agent-fleet-worker.js';
import type { Mode } from './simulated-agents.js';

/**
 * Worker threads by default: four channels each. Each isolate costs CPU of its own (its event loop,
 * timers, grpc-js), which competes with the master: at 10,000 agents on 2 cores the client took
 * 13% of a core in one thread, 18% in 2 workers and 27% in 4, and 4 workers pushed p99 to hundreds
 * of ms (the master's threads waiting for a core), 2 did not.
 */
export const DEFAULT_WORKERS = 2;

export interface FleetOptions {
  readonly address: string;
  readonly agents: number;
  readonly measureMs: number;
  readonly mode: Mode;
  /** The master's pid: its CPU is counted over the measure window. */
  readonly masterPid: number;
  /** Worker threads: a divisor of CHANNELS, so that each owns whole channels (agent i is on channel i % CHANNELS). */
  readonly workers: number;
}

/**
 * Paces `agents` across `workers` threads as one fleet (agent i at offset i × interval / agents,
 * whichever thread owns it), through the same registration interval, warm-up and measure window as
 * pacedBeats. The client's CPU is this process's: every thread's.
 */
export async function fleetBeats(o: FleetOptions): Promise<PacedBeats> {
  if (!Number.isInteger(o.workers) || o.workers < 1 || CHANNELS % o.workers !== 0) throw new Error(`--workers must divide ${CHANNELS} channels, got ${o.workers}`);
  const workers = Array.from({ length: o.workers }, (_, index) => {
    const workerData: FleetWorkerData = { address: o.address, agents: o.agents, measureMs: o.measureMs, mode: o.mode, index, of: o.workers, mainTimeOrigin: performance.timeOrigin };
    // V8 sizes a young generation as three semi-spaces (two plus the new large-object space):
    // this keeps each worker at the 1 MiB semi-spaces pacedBeats gives a single-threaded client.
    return new Worker(new URL('./agent-fleet-worker.js', import.meta.url), { workerData, resourceLimits: { maxYoungGenerationSizeMb: 3 * CLIENT_SEMI_SPACE_MB } });
  });
  try {
    await Promise.all(workers.map((w) => outcome<string>(w)));
    // Shortly ahead, so every worker has the message before its first beat is due.
    const start: FleetStart = { startAt: performance.now() + 20 };
    const window = meterWindow(o.masterPid, start.startAt + WARMUP_MS);
    const results = workers.map((w) => outcome<ShareBeats>(w));
    for (const w of workers) w.postMessage(start);
    const shares = await Promise.all(results);
    const cost = window();
    const tracePath = process.env['BENCH_TRACE'];
    if (tracePath !== undefined) writeTrace(tracePath, shares);
    return summarize(shares, cost);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** The worker's next message, or its failure. */
function outcome<T>(w: Worker): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onExit = (code: number): void => reject(new Error(`bench worker exited with ${code} before answering`));
    w.once('message', (m: T) => {
      w.off('error', reject);
      w.off('exit', onExit);
      resolve(m);
    });
    w.once('error', reject);
    w.once('exit', onExit);
  });
}
