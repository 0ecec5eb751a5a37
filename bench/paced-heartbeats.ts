/**
 * Simulated agents heartbeating a master at a steady pace, as the heartbeat and TLS benchmarks
 * drive it: agent i beats at offset i × interval / agents within every interval, its first beat
 * being its registration (as with real agents: registering everyone first would leave the early
 * ones silent past --degraded-after and measure a degrade/recover storm instead of steady state).
 * After the registration interval and one interval of warm-up, latencies and the master's CPU
 * are measured over the window.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import type { AgentInfo } from '../proto/gen/sutra/grid/v1/grid.pb.js';
import type { NodeView } from '../runtime/common/grid-types.js';
import { capYoungGeneration } from '../runtime/master/young-generation.js';

/** The bench client's largest semi-space, in MiB (see {@link pacedBeats}). */
export const CLIENT_SEMI_SPACE_MB = 1;

/** The agents' heartbeat interval (the masters are started with `--heartbeat-interval 5s`). */
export const INTERVAL_MS = 5_000;
/** Channels the simulated agents share: an agent always uses the same one, as a real agent holds one connection. */
export const CHANNELS = 8;
const CLK_TCK = 100; // Linux USER_HZ; /proc/<pid>/stat counts in these ticks

/** CPU ticks (user + system) of `pid` so far. */
export function cpuTicks(pid: number): number {
  // Fields after the ")" of the command name: utime is the 14th field overall, stime the 15th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Nodes without replication reports: the same object serves the wire (unary) and the domain (stream) beats. */
export function nodesOf(agentId: string): Array<Omit<NodeView, 'replication'>> {
  return [1, 2].map((i) => ({
    nodeId: `${agentId}-n${i}`, agentId, port: 7000 + i, pid: 1000 + i, status: 'running', storagePath: `/data/${agentId}/n${i}`,
    memoryMb: 512, restarts: 0, startedAtMs: Date.now(), cluster: 'bench', role: i === 1 ? 'leader' : 'replica', lastExit: '', containerId: '', generation: 1,
  }));
}

export function agentInfo(agentId: string): AgentInfo {
  return { agentId, hostname: `host-${agentId}`, platform: 'process', address: '127.0.0.1:1', capacity: { maxNodes: 8, memoryMb: 0 }, version: 'bench', labels: {}, portRangeStart: 7000, portRangeSize: 100 };
}

export interface PacedBeatsOptions {
  readonly agents: number;
  readonly measureMs: number;
  /** The master's pid: its CPU is counted over the measure window. */
  readonly masterPid: number;
  /** Sends a beat of agent `i` (0 ≤ i < agents): its registration when `registration`. */
  readonly send: (i: number, registration: boolean) => Promise<unknown>;
}

/** What the measure window saw. */
export interface PacedBeats {
  readonly heartbeats: number;
  readonly errors: number;
  /** The first error of the whole run (warm-up included), `code: details`. */
  readonly firstError: string | undefined;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly cpuPercent: number;
  /** Master CPU time per heartbeat: the load-independent cost. */
  readonly cpuMsPerHeartbeat: number;
  /** The bench client's own CPU (all its threads): when it nears its fair share of a loaded machine, latency is the client's. */
  readonly clientCpuPercent: number;
  /** 1-minute load average at the end: latency on a shared machine depends on it. */
  readonly loadAvg: number;
  /** The bench client's own GC pauses over the window, in total (summed over its isolates). */
  readonly clientGcMs: number;
  /** Beats whose round trip overlapped a GC pause of the isolate that sent them. */
  readonly clientPausedBeats: number;
  /** p99 of the other beats: the round trip without the client's own pauses (a diagnosis, not the target). */
  readonly p99ClearMs: number;
}

/** One isolate's share of the fleet: the agents `i` with `i % of === index`. */
export interface Share {
  readonly index: number;
  readonly of: number;
}

export interface PaceShareOptions {
  readonly agents: number;
  readonly measureMs: number;
  readonly share: Share;
  /** When the registration interval starts, on this thread's `performance.now()` clock. */
  readonly startAt: number;
  /** Sends a beat of agent `i` (one of the share's): its registration when `registration`. */
  readonly send: (i: number, registration: boolean) => Promise<unknown>;
}

/** What one share's measure window saw, on its own thread's clock. */
export interface ShareBeats {
  readonly latencies: Float64Array;
  readonly sendTimes: Float64Array;
  /** 1 for each beat whose round trip overlapped a GC pause of its isolate, else 0. */
  readonly paused: Uint8Array;
  /** That isolate's GC pauses in the window: start, duration, start, duration... */
  readonly pauses: Float64Array;
  readonly errors: number;
  readonly firstError: string | undefined;
}

/** The cost of the measure window: the master's CPU, the client's (every thread of this process), the wall time. */
export interface WindowCost {
  readonly masterCpuSeconds: number;
  readonly clientCpuSeconds: number;
  readonly wallSeconds: number;
}

/** The registration interval and one interval of warm-up come before the measure window. */
export const WARMUP_MS = 2 * INTERVAL_MS;

/**
 * Counts the master's and this process's CPU from `opensAt` (on this thread's clock) until the
 * returned function is called.
 */
export function meterWindow(masterPid: number, opensAt: number): () => WindowCost {
  let masterStart = 0;
  let openedAt = NaN;
  let clientStart = process.cpuUsage();
  const open = (): void => {
    masterStart = cpuTicks(masterPid);
    openedAt = performance.now();
    clientStart = process.cpuUsage();
  };
  const timer = setTimeout(open, Math.max(0, opensAt - performance.now()));
  return () => {
    clearTimeout(timer);
    if (Number.isNaN(openedAt)) open();
    const client = process.cpuUsage(clientStart);
    return { masterCpuSeconds: (cpuTicks(masterPid) - masterStart) / CLK_TCK, clientCpuSeconds: (client.user + client.system) / 1e6, wallSeconds: (performance.now() - openedAt) / 1000 };
  };
}

/**
 * Runs the registration interval, one interval of warm-up, then the measure window, in this
 * thread, for all the agents (bench/agent-fleet.ts splits them across worker threads instead).
 *
 * The client stands for thousands of agents in one isolate, so its own GC pauses delay the answers
 * it reads: a pause no real agent (a small heap, one beat per interval) would have. It keeps its
 * young generation at 2 × 1 MiB (a scavenge's pause grows with what survives it, which grows with
 * the young generation: 16 MiB semi-spaces paused it 5–15 ms every half second) and allocates
 * little per beat; what pauses remain are reported beside the latencies.
 */
export async function pacedBeats(o: PacedBeatsOptions): Promise<PacedBeats> {
  const releaseYoung = capYoungGeneration(CLIENT_SEMI_SPACE_MB);
  try {
    const startAt = performance.now();
    const window = meterWindow(o.masterPid, startAt + WARMUP_MS);
    const share = await paceShare({ agents: o.agents, measureMs: o.measureMs, share: { index: 0, of: 1 }, startAt, send: o.send });
    const cost = window();
    const tracePath = process.env['BENCH_TRACE'];
    if (tracePath !== undefined) writeTrace(tracePath, [share]);
    return summarize([share], cost);
  } finally {
    releaseYoung();
  }
}

/**
 * Paces one share of the fleet: agent i beats at offset i × interval / agents of every interval,
 * whichever isolate sends it, so the shares together beat as one fleet.
 */
export async function paceShare(o: PaceShareOptions): Promise<ShareBeats> {
  const { index, of } = o.share;
  const mine = Math.ceil((o.agents - index) / of);
  // Preallocated: a growing array of doubles is reallocated into the old generation again and again.
  const latencies = new Float64Array(Math.ceil((mine * (o.measureMs + INTERVAL_MS)) / INTERVAL_MS) + 16);
  let measured = 0;
  const sendTimes = new Float64Array(latencies.length);
  let errors = 0;
  let firstError: string | undefined;
  let recording = false;
  const start = o.startAt;
  const totalMs = WARMUP_MS + o.measureMs;
  let next = 0; // index of the next beat to send, counting across intervals and every share's agents
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const pauses: number[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    if (!recording) return;
    for (const e of list.getEntries()) pauses.push(e.startTime, e.duration);
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const settled = (): void => {
    if (--inFlight === 0) drained?.();
  };
  const failed = (record: boolean, err: { code?: number; details?: string }): void => {
    if (record) errors++;
    if (firstError === undefined) firstError = `${err.code}: ${err.details}`;
    settled();
  };
  await new Promise<void>((done) => {
    const tick = (): void => {
      const elapsed = performance.now() - start;
      if (elapsed >= WARMUP_MS) recording = true;
      if (elapsed >= totalMs) {
        clearInterval(timer);
        done();
        return;
      }
      const due = Math.floor((elapsed / INTERVAL_MS) * o.agents);
      for (; next <= due; next++) {
        const i = next % o.agents;
        if (i % of !== index) continue;
        const record = recording && measured < latencies.length;
        const t0 = performance.now();
        inFlight++;
        o.send(i, next < o.agents).then(
          () => {
            if (record) {
              sendTimes[measured] = t0;
              latencies[measured++] = performance.now() - t0;
            }
            settled();
          },
          (err: { code?: number; details?: string }) => failed(record, err),
        );
      }
    };
    const timer = setInterval(tick, 5);
  });
  if (inFlight > 0) await new Promise<void>((r) => (drained = r));
  gcObserver.disconnect();
  const gcPauses = Float64Array.from(pauses);
  const beats = { latencies: latencies.slice(0, measured), sendTimes: sendTimes.slice(0, measured), pauses: gcPauses, errors, firstError };
  return { ...beats, paused: clientPaused(beats.sendTimes, beats.latencies, gcPauses) };
}

/** The fleet's figures from every share's beats and the window's cost. */
export function summarize(shares: readonly ShareBeats[], cost: WindowCost): PacedBeats {
  const measured = shares.reduce((n, s) => n + s.latencies.length, 0);
  const all = new Float64Array(measured);
  const clear = new Float64Array(measured);
  let at = 0;
  let clearAt = 0;
  let gcMs = 0;
  for (const s of shares) {
    all.set(s.latencies, at);
    at += s.latencies.length;
    for (let i = 0; i < s.latencies.length; i++) if (s.paused[i] === 0) clear[clearAt++] = s.latencies[i]!;
    for (let i = 1; i < s.pauses.length; i += 2) gcMs += s.pauses[i]!;
  }
  all.sort();
  const clearSorted = clear.subarray(0, clearAt).sort();
  const errors = shares.reduce((n, s) => n + s.errors, 0);
  return {
    heartbeats: measured,
    errors,
    firstError: shares.find((s) => s.firstError !== undefined)?.firstError,
    p50Ms: percentile(all, 50),
    p99Ms: percentile(all, 99),
    maxMs: all[all.length - 1] ?? NaN,
    clientGcMs: gcMs,
    clientPausedBeats: measured - clearAt,
    p99ClearMs: percentile(clearSorted, 99),
    cpuPercent: (100 * cost.masterCpuSeconds) / cost.wallSeconds,
    cpuMsPerHeartbeat: (1000 * cost.masterCpuSeconds) / Math.max(1, measured + errors),
    clientCpuPercent: (100 * cost.clientCpuSeconds) / cost.wallSeconds,
    loadAvg: loadavg()[0] ?? NaN,
  };
}

/** 1 for each beat whose round trip overlapped a GC pause (start, duration pairs), else 0. */
function clientPaused(sendTimes: Float64Array, latencies: Float64Array, pauses: Float64Array): Uint8Array {
  const out = new Uint8Array(sendTimes.length);
  for (let i = 0; i < sendTimes.length; i++) {
    const s = sendTimes[i]!;
    const e = s + latencies[i]!;
    for (let p = 0; p < pauses.length; p += 2) {
      const ps = pauses[p]!;
      if (ps < e && ps + pauses[p + 1]! > s) {
        out[i] = 1;
        break;
      }
    }
  }
  return out;
}

/**
 * BENCH_TRACE=<file>: each measured beat's send time and latency and the client's GC pauses (one
 * share's per line: `gc start duration share`), on the bench's main thread's clock.
 */
export function writeTrace(path: string, shares: readonly ShareBeats[]): void {
  const lines: string[] = [];
  shares.forEach((s, share) => {
    for (let i = 0; i < s.sendTimes.length; i++) lines.push(`beat ${s.sendTimes[i]!.toFixed(2)} ${s.latencies[i]!.toFixed(2)}`);
    for (let p = 0; p < s.pauses.length; p += 2) lines.push(`gc ${s.pauses[p]!.toFixed(2)} ${s.pauses[p + 1]!.toFixed(2)} ${share}`);
  });
  writeFileSync(path, `${lines.join('\n')}\n`);
}
