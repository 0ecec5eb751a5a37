/**
 * Master heartbeat benchmark (issue 2): a real master process under 1,000 and 5,000 simulated
 * agents, each heartbeating every 5 s with a two-node list, heartbeats spread evenly over the
 * interval. A few client channels multiplex all agent ids (one process cannot hold 5,000 real
 * agents). Reports heartbeat round-trip p50/p99/max over all beats, the master's CPU (from
 * /proc/<pid>/stat) and RSS (VmRSS / VmHWM from /proc/<pid>/status).
 *
 * Run: `npm run build && node dist/bench/heartbeat.bench.js [agents...] [--measure 20s] [--mode stream|unary|both] [--workers 2]`
 * (default 1000 5000; each scale gets a fresh master, a registration interval (each agent registers
 * at its slot) and one warm-up heartbeat interval, then the measure window).
 * `--workers N` (default 2; a divisor of the 8 channels) splits the agents and their channels
 * across N worker threads, so that the client's own GC pauses one share of the agents at a time, as
 * a real agent's GC pauses only itself (bench/agent-fleet.ts); `--workers 0` runs them all on the main
 * thread, as the bench did before. BENCH_MASTER_CLI=<path of a bin/sutra-grid.js> runs another
 * checkout's master (an A/B against an older build).
 * BENCH_WAITER=<a built checkout, or "."> adds, through the whole run, a client of that checkout
 * waiting for convergence (`waitConverged`) while an agent is cordoned and uncordoned 20 times a
 * second: what a CI pipeline's `apply` does to the master while a large grid changes.
 * Targets at 5,000 agents: p99 <= 5 ms, RSS <= 200 MB (issue 17: the same at 10,000 on HeartbeatStream).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CHANNELS, INTERVAL_MS, pacedBeats } from './paced-heartbeats.js';
import { DEFAULT_WORKERS, fleetBeats } from './agent-fleet.js';
import { simulatedAgents, type Mode } from './simulated-agents.js';

const CLI = process.env['BENCH_MASTER_CLI'] ?? resolve(import.meta.dirname, '../../bin/sutra-grid.js');

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

async function runScale(agents: number, measureMs: number, mode: Mode, workers: number): Promise<ScaleResult & { mode: Mode }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hb-bench-'));
  const { proc, address } = await startMaster(dataDir);
  const inThread = workers === 0 ? simulatedAgents(address, agents, mode) : undefined;
  const waiter = process.env['BENCH_WAITER'] !== undefined ? await startWaiter(address, process.env['BENCH_WAITER']) : undefined;
  try {
    const beats =
      inThread === undefined
        ? await fleetBeats({ address, agents, measureMs, mode, masterPid: proc.pid!, workers })
        : await pacedBeats({ agents, measureMs, masterPid: proc.pid!, send: inThread.send });
    const log = readFileSync(join(dataDir, 'master.log'), 'utf8');
    const tracePath = process.env['BENCH_TRACE'];
    if (tracePath !== undefined) writeFileSync(`${tracePath}.master`, `spawned ${spawnedAt.toFixed(2)}\n${log}`);
    const count = (re: RegExp): number => log.match(re)?.length ?? 0;
    process.stderr.write(`master log: ${count(/degraded: no heartbeat/g)} degraded, ${count(/offline: no heartbeat/g)} offline, ${count(/recovered/g)} recovered, ${count(/"level":(40|50)/g)} warn/error lines\n`);
    if (beats.firstError !== undefined) process.stderr.write(`first heartbeat error at ${agents} agents: ${beats.firstError}\n`);
    const { firstError: _first, ...measured } = beats;
    return { agents, ...measured, rssMb: memMb(proc.pid!, 'VmRSS'), peakRssMb: memMb(proc.pid!, 'VmHWM'), mode };
  } finally {
    if (waiter !== undefined) process.stderr.write(`waiting client: ${await waiter.stop()} reads\n`);
    inThread?.close();
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * A client of the checkout at `from` waiting for a generation that never comes, and events 20 times
 * a second (the first agent cordoned and uncordoned in turn, once it has registered). `stop` ends
 * both and resolves with how many times the client read the grid.
 */
async function startWaiter(address: string, from: string): Promise<{ stop: () => Promise<number> }> {
  const mod = (await import(join(resolve(from), 'dist', 'client', 'index.js'))) as typeof import('../client/index.js');
  const client = new mod.MasterClient({ address, callTimeoutMs: 60_000 });
  const done = new AbortController();
  let reads = 0;
  const waiting = mod.waitConverged(client, Number.MAX_SAFE_INTEGER, { timeoutMs: 3_600_000, signal: done.signal, onView: () => reads++ });
  const events = (async () => {
    for (let cordoned = false; !done.signal.aborted; cordoned = !cordoned) {
      // Not registered yet: no event, try again.
      await (cordoned ? client.uncordonAgent('agent-00000') : client.cordonAgent('agent-00000', 'bench')).catch(() => (cordoned = !cordoned));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      done.abort();
      await Promise.all([waiting, events]);
      client.close();
      return reads;
    },
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const measureIdx = args.indexOf('--measure');
  const workersIdx = args.indexOf('--workers');
  const workers = workersIdx >= 0 ? Number(args[workersIdx + 1]) : DEFAULT_WORKERS;
  const measureMs = measureIdx >= 0 ? Number(/^(\d+)s$/.exec(args[measureIdx + 1] ?? '')?.[1] ?? 20) * 1000 : 20_000;
  const scales = args.filter((a, i) => /^\d+$/.test(a) && (measureIdx < 0 || i !== measureIdx + 1) && (workersIdx < 0 || i !== workersIdx + 1)).map(Number);
  const modeIdx = args.indexOf('--mode');
  const modeArg = modeIdx >= 0 ? args[modeIdx + 1] : 'both';
  const modes: Mode[] = modeArg === 'stream' ? ['stream'] : modeArg === 'unary' ? ['unary'] : ['stream', 'unary'];
  const results: Array<ScaleResult & { mode: Mode }> = [];
  for (const agents of scales.length > 0 ? scales : [1000, 5000]) {
    for (const mode of modes) {
      const r = await runScale(agents, measureMs, mode, workers);
      results.push(r);
      const f = (n: number): string => n.toFixed(2);
      process.stdout.write(
        `${r.agents} agents (${r.mode}): ${r.heartbeats} heartbeats (${r.errors} errors), p50 ${f(r.p50Ms)} ms, p99 ${f(r.p99Ms)} ms, max ${f(r.maxMs)} ms; ` +
          `master CPU ${r.cpuPercent.toFixed(1)}% of one core (${r.cpuMsPerHeartbeat.toFixed(3)} ms per heartbeat), RSS ${r.rssMb.toFixed(0)} MB (peak ${r.peakRssMb.toFixed(0)} MB); bench client CPU ${r.clientCpuPercent.toFixed(1)}%, its GC pauses ${r.clientGcMs.toFixed(0)} ms overlapping ${r.clientPausedBeats} beats (p99 of the others ${f(r.p99ClearMs)} ms); load average ${r.loadAvg.toFixed(1)} on ${cpus().length} cores\n`,
      );
    }
  }
  process.stdout.write(`${JSON.stringify({ benchmark: 'master-heartbeat', intervalMs: INTERVAL_MS, measureMs, channels: CHANNELS, workers, results })}\n`);
}

await main();
