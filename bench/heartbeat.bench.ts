/**
 * Master heartbeat benchmark (issue 2): a real master process under 1,000 and 5,000 simulated
 * agents, each heartbeating every 5 s with a two-node list, heartbeats spread evenly over the
 * interval. A few client channels multiplex all agent ids (one process cannot hold 5,000 real
 * agents). Reports heartbeat round-trip p50/p99/max, the master's CPU (from /proc/<pid>/stat) and
 * RSS (VmRSS / VmHWM from /proc/<pid>/status).
 *
 * Run: `npm run build && node dist/bench/heartbeat.bench.js [agents...] [--measure 20s] [--mode stream|unary|both]`
 * (default 1000 5000; each scale gets a fresh master, a registration interval (each agent registers
 * at its slot) and one warm-up heartbeat interval, then the measure window).
 * Targets at 5,000 agents: p99 <= 5 ms, RSS <= 200 MB.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GridMasterClient } from '../proto/gen/sutra/grid/v1/grid.pb.js';
import { insecureCredentials, unary } from '../client/index.js';
import { HeartbeatStream } from '../runtime/agent/heartbeat-stream.js';
import { heartbeatCall } from '../runtime/agent/master-connection.js';
import { agentInfo, CHANNELS, INTERVAL_MS, nodesOf, pacedBeats } from './paced-heartbeats.js';

const CLI = resolve(import.meta.dirname, '../../bin/sutra-grid.js');

interface ScaleResult {
  agents: number;
  heartbeats: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  cpuPercent: number;
  /** Master CPU time per heartbeat: the load-independent cost. */
  cpuMsPerHeartbeat: number;
  /** The bench client's own CPU: when it nears its fair share of a loaded machine, latency is the client's. */
  clientCpuPercent: number;
  /** 1-minute load average at the end: latency on a shared machine depends on it. */
  loadAvg: number;
  /** The bench client's own GC pauses over the window (they delay the answers it reads). */
  clientGcMs: number;
  clientPausedBeats: number;
  /** p99 of the beats that no client GC pause overlapped: a diagnosis beside p99, not the target. */
  p99ClearMs: number;
  rssMb: number;
  peakRssMb: number;
}

async function startMaster(dataDir: string): Promise<{ proc: ChildProcess; address: string }> {
  // Logs go to a file, not a pipe: a pipe the bench is too busy to drain would stall the master.
  const logFile = join(dataDir, 'master.log');
  const fd = openSync(logFile, 'w');
  const proc = spawn(
    process.execPath,
    // BENCH_MASTER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the master only.
    [...(process.env['BENCH_MASTER_NODE_ARGS']?.split(' ').filter(Boolean) ?? []), CLI, 'master', '--listen', '127.0.0.1:0', '--data-dir', join(dataDir, 'master'), '--heartbeat-interval', '5s', '--degraded-after', '15s', '--offline-after', '30s'],
    // stdout too: V8's --trace-gc writes there.
    { env: { ...process.env, LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'info' }, stdio: ['ignore', fd, fd] },
  );
  spawnedAt = performance.now();
  closeSync(fd);
  for (let waited = 0; waited < 30_000; waited += 50) {
    const m = /master listening on ([^\s"]+)/.exec(readFileSync(logFile, 'utf8'));
    if (m) return { proc, address: m[1]! };
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`master did not start: ${readFileSync(logFile, 'utf8')}`);
}

/** When the master was spawned, on this process's clock: its --trace-gc times count from about then. */
let spawnedAt = 0;

function memMb(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * How beats travel: `stream` is what agents do (one HeartbeatStream each, a message per beat);
 * `unary` is one Heartbeat call per beat, measured beside it as the baseline.
 */
type Mode = 'stream' | 'unary';

async function runScale(agents: number, measureMs: number, mode: Mode): Promise<ScaleResult & { mode: Mode }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hb-bench-'));
  const { proc, address } = await startMaster(dataDir);
  // A local subchannel pool per client gives each its own TCP connection; channelz bookkeeping off
  // keeps the client's per-call cost (which competes with the master for the same cores) down.
  const clients = Array.from({ length: CHANNELS }, (_, i) => new GridMasterClient(address, insecureCredentials, { 'grpc.use_local_subchannel_pool': 1, 'grpc.enable_channelz': 0, 'grpc.bench_channel': i }));
  const ids = Array.from({ length: agents }, (_, i) => `agent-${String(i).padStart(5, '0')}`);
  const nodes = new Map(ids.map((id) => [id, nodesOf(id)]));
  const streams = new Map<string, HeartbeatStream>();
  try {
    const beats = await pacedBeats({
      agents,
      measureMs,
      masterPid: proc.pid!,
      send: (i, registration) => {
        const agentId = ids[i]!;
        const c = clients[i % CHANNELS]!;
        if (registration) return unary(c.registerAgent, c, { agent: agentInfo(agentId), nodes: nodes.get(agentId)! }, undefined, 10_000);
        return mode === 'unary' ? unary(c.heartbeat, c, { agentId, nodes: nodes.get(agentId)! }, undefined, 10_000) : beatOnStream(streams, agentId, c, nodes.get(agentId)!);
      },
    });
    const log = readFileSync(join(dataDir, 'master.log'), 'utf8');
    const tracePath = process.env['BENCH_TRACE'];
    if (tracePath !== undefined) writeFileSync(`${tracePath}.master`, `spawned ${spawnedAt.toFixed(2)}\n${log}`);
    const count = (re: RegExp): number => log.match(re)?.length ?? 0;
    process.stderr.write(`master log: ${count(/degraded: no heartbeat/g)} degraded, ${count(/offline: no heartbeat/g)} offline, ${count(/recovered/g)} recovered, ${count(/"level":(40|50)/g)} warn/error lines\n`);
    if (beats.firstError !== undefined) process.stderr.write(`first heartbeat error at ${agents} agents: ${beats.firstError}\n`);
    const { firstError: _first, ...measured } = beats;
    return { agents, ...measured, rssMb: memMb(proc.pid!, 'VmRSS'), peakRssMb: memMb(proc.pid!, 'VmHWM'), mode };
  } finally {
    for (const st of streams.values()) st.close();
    for (const c of clients) c.close();
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * One beat on the agent's stream, opened on its first beat. A stream is broken for good by any
 * error (a beat not answered in time on an overloaded machine): as a real agent does, the next
 * beat opens a new one, so one slow moment costs its own beats, not every later one.
 */
function beatOnStream(streams: Map<string, HeartbeatStream>, agentId: string, c: GridMasterClient, beatNodes: ReturnType<typeof nodesOf>): Promise<unknown> {
  let st = streams.get(agentId);
  if (st === undefined) streams.set(agentId, (st = new HeartbeatStream(heartbeatCall(c, undefined))));
  const stream = st;
  return stream.send({ agentId, nodes: beatNodes }, 10_000).catch((err: unknown) => {
    if (streams.get(agentId) === stream) {
      streams.delete(agentId);
      stream.close();
    }
    throw err;
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const measureIdx = args.indexOf('--measure');
  const measureMs = measureIdx >= 0 ? Number(/^(\d+)s$/.exec(args[measureIdx + 1] ?? '')?.[1] ?? 20) * 1000 : 20_000;
  const scales = args.filter((a, i) => /^\d+$/.test(a) && (measureIdx < 0 || i !== measureIdx + 1)).map(Number);
  const modeIdx = args.indexOf('--mode');
  const modeArg = modeIdx >= 0 ? args[modeIdx + 1] : 'both';
  const modes: Mode[] = modeArg === 'stream' ? ['stream'] : modeArg === 'unary' ? ['unary'] : ['stream', 'unary'];
  const results: Array<ScaleResult & { mode: Mode }> = [];
  for (const agents of scales.length > 0 ? scales : [1000, 5000]) {
    for (const mode of modes) {
      const r = await runScale(agents, measureMs, mode);
      results.push(r);
      const f = (n: number): string => n.toFixed(2);
      process.stdout.write(
        `${r.agents} agents (${r.mode}): ${r.heartbeats} heartbeats (${r.errors} errors), p50 ${f(r.p50Ms)} ms, p99 ${f(r.p99Ms)} ms, max ${f(r.maxMs)} ms; ` +
          `master CPU ${r.cpuPercent.toFixed(1)}% of one core (${r.cpuMsPerHeartbeat.toFixed(3)} ms per heartbeat), RSS ${r.rssMb.toFixed(0)} MB (peak ${r.peakRssMb.toFixed(0)} MB); bench client CPU ${r.clientCpuPercent.toFixed(1)}%, its GC pauses ${r.clientGcMs.toFixed(0)} ms overlapping ${r.clientPausedBeats} beats (p99 of the others ${f(r.p99ClearMs)} ms); load average ${r.loadAvg.toFixed(1)} on ${cpus().length} cores\n`,
      );
    }
  }
  process.stdout.write(`${JSON.stringify({ benchmark: 'master-heartbeat', intervalMs: INTERVAL_MS, measureMs, channels: CHANNELS, results })}\n`);
}

await main();
