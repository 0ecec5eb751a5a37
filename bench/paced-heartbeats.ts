/**
 * Simulated agents heartbeating a master at a steady pace, as the heartbeat and TLS benchmarks
 * drive it: agent i beats at offset i × interval / agents within every interval, its first beat
 * being its registration (as with real agents: registering everyone first would leave the early
 * ones silent past --degraded-after and measure a degrade/recover storm instead of steady state).
 * After the registration interval and one interval of warm-up, latencies and the master's CPU
 * are measured over the window.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { AgentInfo } from '../proto/gen/sutra/grid/v1/grid.pb.js';
import type { NodeView } from '../runtime/common/grid-types.js';

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

export function percentile(sorted: readonly number[], p: number): number {
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
}

/** Runs the registration interval, one interval of warm-up, then the measure window. */
export async function pacedBeats(o: PacedBeatsOptions): Promise<PacedBeats> {
  const latencies: number[] = [];
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
  const inFlight = new Set<Promise<void>>();
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
        const record = recording;
        const t0 = performance.now();
        const p = o.send(next % o.agents, next < o.agents).then(
          () => {
            if (record) latencies.push(performance.now() - t0);
          },
          (err: { code?: number; details?: string }) => {
            if (record) errors++;
            if (firstError === undefined) firstError = `${err.code}: ${err.details}`;
          },
        );
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
    };
    const timer = setInterval(tick, 5);
  });
  await Promise.all(inFlight);
  const cpuSeconds = (cpuTicks(o.masterPid) - cpuStart) / CLK_TCK;
  const wallSeconds = (performance.now() - cpuStartAt) / 1000;
  const clientCpu = process.cpuUsage(clientCpuStart);
  latencies.sort((a, b) => a - b);
  return {
    heartbeats: latencies.length,
    errors,
    firstError,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies[latencies.length - 1] ?? NaN,
    cpuPercent: (100 * cpuSeconds) / wallSeconds,
    cpuMsPerHeartbeat: (1000 * cpuSeconds) / Math.max(1, latencies.length + errors),
    clientCpuPercent: (100 * (clientCpu.user + clientCpu.system)) / 1e6 / wallSeconds,
    loadAvg: loadavg()[0] ?? NaN,
  };
}
