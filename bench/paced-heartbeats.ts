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
const CLIENT_SEMI_SPACE_MB = 1;

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
  /** The bench client's own CPU: when it nears its fair share of a loaded machine, latency is the client's. */
  readonly clientCpuPercent: number;
  /** 1-minute load average at the end: latency on a shared machine depends on it. */
  readonly loadAvg: number;
  /** The bench client's own GC pauses over the window, in total. */
  readonly clientGcMs: number;
  /** Beats whose round trip overlapped one of those pauses. */
  readonly clientPausedBeats: number;
  /** p99 of the other beats: the round trip without the client's own pauses (a diagnosis, not the target). */
  readonly p99ClearMs: number;
}

/** A GC pause of the bench client that fell inside the measure window. */
interface Pause {
  readonly start: number;
  readonly end: number;
}

/**
 * Runs the registration interval, one interval of warm-up, then the measure window.
 *
 * The client stands for thousands of agents in one process, so its own GC pauses delay the answers
 * it reads: a pause no real agent (a small heap, one beat per interval) would have. It keeps its
 * young generation at 2 × 1 MiB (a scavenge's pause grows with what survives it, which grows with
 * the young generation: 16 MiB semi-spaces paused it 5–15 ms every half second) and allocates
 * little per beat; what pauses remain are reported beside the latencies.
 */
export async function pacedBeats(o: PacedBeatsOptions): Promise<PacedBeats> {
  const releaseYoung = capYoungGeneration(CLIENT_SEMI_SPACE_MB);
  try {
    return await run(o);
  } finally {
    releaseYoung();
  }
}

async function run(o: PacedBeatsOptions): Promise<PacedBeats> {
  // Preallocated: a growing array of doubles is reallocated into the old generation again and again.
  const latencies = new Float64Array(Math.ceil((o.agents * (o.measureMs + INTERVAL_MS)) / INTERVAL_MS) + 16);
  let measured = 0;
  const sendTimes = new Float64Array(latencies.length);
  let errors = 0;
  let firstError: string | undefined;
  let recording = false;
  const start = performance.now();
  const warmupMs = 2 * INTERVAL_MS;
  const totalMs = warmupMs + o.measureMs;
  let next = 0; // index of the next beat to send, counting across intervals
  let cpuStart = 0;
  let cpuStartAt = 0;
  let clientCpuStart = process.cpuUsage();
  let inFlight = 0;
  let drained: (() => void) | undefined;
  const pauses: Pause[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    if (!recording) return;
    for (const e of list.getEntries()) pauses.push({ start: e.startTime, end: e.startTime + e.duration });
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
      if (!recording && elapsed >= warmupMs) {
        recording = true;
        cpuStart = cpuTicks(o.masterPid);
        cpuStartAt = performance.now();
        clientCpuStart = process.cpuUsage();
      }
      if (elapsed >= totalMs) {
        clearInterval(timer);
        done();
        return;
      }
      const due = Math.floor((elapsed / INTERVAL_MS) * o.agents);
      for (; next <= due; next++) {
        const record = recording && measured < latencies.length;
        const t0 = performance.now();
        inFlight++;
        o.send(next % o.agents, next < o.agents).then(
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
  const cpuSeconds = (cpuTicks(o.masterPid) - cpuStart) / CLK_TCK;
  const wallSeconds = (performance.now() - cpuStartAt) / 1000;
  const clientCpu = process.cpuUsage(clientCpuStart);
  const tracePath = process.env['BENCH_TRACE'];
  if (tracePath !== undefined) writeTrace(tracePath, sendTimes.subarray(0, measured), latencies.subarray(0, measured), pauses);
  const overlapped = clientPaused(sendTimes.subarray(0, measured), latencies.subarray(0, measured), pauses);
  const all = latencies.slice(0, measured).sort();
  const clear = latencies.slice(0, measured).filter((_, i) => overlapped[i] === 0).sort();
  return {
    heartbeats: measured,
    errors,
    firstError,
    p50Ms: percentile(all, 50),
    p99Ms: percentile(all, 99),
    maxMs: all[all.length - 1] ?? NaN,
    clientGcMs: pauses.reduce((sum, p) => sum + p.end - p.start, 0),
    clientPausedBeats: measured - clear.length,
    p99ClearMs: percentile(clear, 99),
    cpuPercent: (100 * cpuSeconds) / wallSeconds,
    cpuMsPerHeartbeat: (1000 * cpuSeconds) / Math.max(1, measured + errors),
    clientCpuPercent: (100 * (clientCpu.user + clientCpu.system)) / 1e6 / wallSeconds,
    loadAvg: loadavg()[0] ?? NaN,
  };
}

/** 1 for each beat whose round trip overlapped a GC pause of the client, else 0. */
function clientPaused(sendTimes: Float64Array, latencies: Float64Array, pauses: readonly Pause[]): Uint8Array {
  const out = new Uint8Array(sendTimes.length);
  for (let i = 0; i < sendTimes.length; i++) {
    const s = sendTimes[i]!;
    const e = s + latencies[i]!;
    for (const p of pauses) {
      if (p.start < e && p.end > s) {
        out[i] = 1;
        break;
      }
    }
  }
  return out;
}

/** BENCH_TRACE=<file>: each measured beat's send time and latency and the client's GC pauses, on the client's clock. */
function writeTrace(path: string, sendTimes: Float64Array, latencies: Float64Array, pauses: readonly Pause[]): void {
  const lines: string[] = [];
  for (let i = 0; i < sendTimes.length; i++) lines.push(`beat ${sendTimes[i]!.toFixed(2)} ${latencies[i]!.toFixed(2)}`);
  for (const p of pauses) lines.push(`gc ${p.start.toFixed(2)} ${(p.end - p.start).toFixed(2)} 0`);
  writeFileSync(path, `${lines.join('\n')}\n`);
}
