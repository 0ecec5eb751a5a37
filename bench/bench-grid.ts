/**
 * A real grid for the benchmarks: a master and agents as processes of `sutra-grid` (each agent with
 * its own block of node ports), the CLI to drive it, and a teardown that leaves nothing behind (the
 * storage nodes of an agent killed with -9 included).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeInfo } from '../proto/gen/sutra/grid/v1/agent.pb.js';
import { MasterClient } from '../client/index.js';
import { CLI, PROBE_INTERVAL_MS } from './bench-support.js';
import { pidsMentioning, type BenchScope } from './replication-support.js';

/** How the bench grid's master and agents are set up. */
export interface BenchGridOptions {
  readonly agents: readonly string[];
  readonly nodesPerAgent: number;
  readonly heartbeatMs: number;
  readonly offlineAfterMs: number;
}

/** A running bench grid. */
export interface BenchGrid {
  readonly dir: string;
  readonly masterAddress: string;
  readonly master: MasterClient;
  readonly agents: ReadonlyMap<string, ChildProcess>;
  /** Stops the agents (each stops its nodes), then the master, then anything left under `dir`. */
  teardown(): Promise<void>;
}

/** Runs the CLI to completion; rejects with its output unless it exits 0. */
export function runCli(args: readonly string[]): Promise<string> {
  const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((res, rej) => proc.once('exit', (code) => (code === 0 ? res(out) : rej(new Error(`sutra-grid ${args[0]} exited ${code}:\n${out}`)))));
}

/** A node's data address on loopback. */
export const addressOf = (n: NodeInfo): string => `127.0.0.1:${n.port}`;

/** Starts a master and `o.agents` under `scope`; on failure whatever started is stopped again. */
export async function startBenchGrid(scope: BenchScope, o: BenchGridOptions): Promise<BenchGrid> {
  const dir = scope.dir('grid');
  const daemons: ChildProcess[] = [];
  const agents = new Map<string, ChildProcess>();
  let master: MasterClient | undefined;
  const teardown = async (): Promise<void> => {
    master?.close();
    await Promise.all(daemons.slice(1).map((d) => scope.stop(d)));
    if (daemons[0]) await scope.stop(daemons[0]);
    for (const pid of pidsMentioning(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  };
  try {
    const m = await scope.daemon(
      ['master', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'master'), '--heartbeat-interval', `${o.heartbeatMs}ms`, '--degraded-after', `${Math.round(o.offlineAfterMs / 2)}ms`,
        '--offline-after', `${o.offlineAfterMs}ms`, '--health-check-interval', '50ms', '--reconcile-interval', '200ms'],
      /master listening on ([^\s"]+)/,
    );
    daemons.push(m.proc);
    master = new MasterClient({ address: m.address, callTimeoutMs: 10_000 });
    // Node ports in a block of this grid's own (the bench runs in a network namespace of its own).
    const block = o.nodesPerAgent * 3;
    const portBase = 21_000 + Math.floor(Math.random() * 200) * block * o.agents.length;
    for (const [i, id] of o.agents.entries()) {
      const config = join(dir, `${id}.toml`);
      writeFileSync(config, [
        '[agent]', `agent_id = "${id}"`, `master_endpoint = "${m.address}"`, 'agent_port = 0', `max_storage_nodes = ${o.nodesPerAgent}`,
        '[storage]', `data_path = "${join(dir, id)}"`, 'default_memory_mb = 64', `default_port_range_start = ${portBase + i * block}`, `port_range_size = ${block}`,
        '[monitoring]', `heartbeat_interval_secs = ${o.heartbeatMs / 1000}`, 'health_check_interval_secs = 0.5', 'restart_backoff_ms = 50', 'stop_grace_secs = 3',
        `startup_probe_interval_ms = ${PROBE_INTERVAL_MS}`,
      ].join('\n'));
      const a = await scope.daemon(['agent', '--config', config], new RegExp(`agent ${id} listening on (\\S+)`));
      daemons.push(a.proc);
      agents.set(id, a.proc);
    }
    return { dir, masterAddress: m.address, master, agents, teardown };
  } catch (err) {
    await teardown();
    throw err;
  }
}
