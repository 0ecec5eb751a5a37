/**
 * A client waiting for convergence on a large grid (issue 17: the master at 10,000 agents): a real
 * master with AGENTS simulated agents of two nodes each, events coming EVENTS times a second (an
 * agent cordoned and uncordoned in turn, as nodes changing would), and one client in
 * `waitConverged` for a generation that never comes, for SECONDS. Prints how often the client read
 * the grid, what one read cost, and the master's CPU over the window.
 *
 * Run: `node dist/bench/wait-reads.bench.js [agents=5000] [seconds=20] [events=20]` after
 * `npm run build`. $WAIT_BEFORE=/path/of/another/built/checkout runs that build's wait in a second
 * window against the same master (an A/B of the client's pacing).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasterClient, readGrid, waitConverged } from '../client/index.js';
import { startDaemon, stopDaemons } from './bench-support.js';
import { simulatedAgents } from './simulated-agents.js';

const AGENTS = Number(process.argv[2] ?? 5000);
const SECONDS = Number(process.argv[3] ?? 20);
const EVENTS = Number(process.argv[4] ?? 20);
const BEFORE = process.env['WAIT_BEFORE'];

type Wait = typeof waitConverged;

/** CPU time of every thread of `pid` so far, in ms. */
function cpuMs(pid: number): number {
  return readdirSync(`/proc/${pid}/task`).reduce((sum, t) => sum + Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]) / 1e6, 0);
}

/** One window: events at EVENTS/s while `wait` waits; its reads and the master's CPU. */
async function window(name: string, wait: Wait, client: MasterClient, masterPid: number): Promise<void> {
  const stop = new AbortController();
  let reads = 0;
  let cordoned = false;
  const events = (async () => {
    while (!stop.signal.aborted) {
      await (cordoned ? client.uncordonAgent('agent-00000') : client.cordonAgent('agent-00000', 'bench'));
      cordoned = !cordoned;
      await new Promise((r) => setTimeout(r, 1000 / EVENTS));
    }
  })();
  const cpu0 = cpuMs(masterPid);
  const t0 = performance.now();
  await wait(client, Number.MAX_SAFE_INTEGER, { timeoutMs: SECONDS * 1000, onView: () => reads++ });
  const ms = performance.now() - t0;
  const cpu = cpuMs(masterPid) - cpu0;
  stop.abort();
  await events;
  console.log(`${name}: ${reads} reads in ${(ms / 1000).toFixed(1)} s (${((reads * 1000) / ms).toFixed(1)}/s); master CPU ${((100 * cpu) / ms).toFixed(1)}% of one core; load ${loadavg()[0]!.toFixed(1)}`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'wait-reads-bench-'));
  const daemons = [];
  const sim: Array<ReturnType<typeof simulatedAgents>> = [];
  let client: MasterClient | undefined;
  try {
    // Beats every 60 s: the window measures the waiting client, not the agents.
    const master = await startDaemon(['master', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'master'), '--heartbeat-interval', '60s', '--degraded-after', '120s', '--offline-after', '240s'], /master listening on ([^\s"]+)/);
    daemons.push(master.proc);
    const agents = simulatedAgents(master.address, AGENTS, 'stream');
    sim.push(agents);
    for (let i = 0; i < AGENTS; i += 200) await Promise.all(Array.from({ length: Math.min(200, AGENTS - i) }, (_, k) => agents.send(i + k, true)));
    client = new MasterClient({ address: master.address, callTimeoutMs: 60_000 });
    const c = client;
    const view = await readGrid(c);
    const m0 = cpuMs(master.proc.pid!);
    const r0 = performance.now();
    for (let i = 0; i < 10; i++) await readGrid(c);
    console.log(`${AGENTS} agents, ${view.nodes.length} nodes; one read (ListNodes + GetClusterStatus): ${((performance.now() - r0) / 10).toFixed(1)} ms, ${((cpuMs(master.proc.pid!) - m0) / 10).toFixed(1)} ms of the master's CPU; events ${EVENTS}/s`);
    await window('this build', waitConverged, c, master.proc.pid!);
    if (BEFORE !== undefined) {
      const before = (await import(join(BEFORE, 'dist', 'client', 'index.js'))) as { waitConverged: Wait };
      await window('build before', before.waitConverged, c, master.proc.pid!);
    }
  } finally {
    client?.close();
    for (const s of sim) s.close();
    await stopDaemons(daemons);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
