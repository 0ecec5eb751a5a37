/**
 * A worker thread of bench/agent-fleet.ts: simulates one share of the agents (its own channels,
 * its own isolate and heap, so its GC pauses only its own agents) and posts back what its measure
 * window saw, on the main thread's clock.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { paceShare, type ShareBeats } from './paced-heartbeats.js';
import { simulatedAgents, type Mode } from './simulated-agents.js';

/** What the main thread gives each worker. */
export interface FleetWorkerData {
  readonly address: string;
  readonly agents: number;
  readonly measureMs: number;
  readonly mode: Mode;
  readonly index: number;
  readonly of: number;
  /** The main thread's `performance.timeOrigin`: the workers' clocks start elsewhere. */
  readonly mainTimeOrigin: number;
}

/** The main thread's message: start the registration interval at `startAt` on its clock. */
export interface FleetStart {
  readonly startAt: number;
}

const data = workerData as FleetWorkerData;
const port = parentPort!;
const shift = performance.timeOrigin - data.mainTimeOrigin;
const agents = simulatedAgents(data.address, data.agents, data.mode);

port.once('message', (start: FleetStart) => {
  void (async () => {
    try {
      const s = await paceShare({ agents: data.agents, measureMs: data.measureMs, share: { index: data.index, of: data.of }, startAt: start.startAt - shift, send: agents.send });
      for (let i = 0; i < s.sendTimes.length; i++) s.sendTimes[i]! += shift;
      for (let p = 0; p < s.pauses.length; p += 2) s.pauses[p]! += shift;
      // Copied, not transferred: a few hundred KB once per run.
      const out: ShareBeats = s;
      port.postMessage(out);
    } finally {
      agents.close();
    }
  })();
});
port.postMessage('ready');
