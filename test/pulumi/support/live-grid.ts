/**
 * A live grid for the provider tests: a real `sutra-grid master` and real agents (child processes
 * started with the shared test helpers), all requiring one shared token. Call `cleanup` from
 * test/helpers/processes.ts in `afterAll`/`afterEach` to stop them. Needs `npm run build` first.
 */
import type { GridNode, MasterClient } from '../../../client/index.js';
import { withMaster } from '../../../provider/pulumi/master-session.js';
import { eventually, startAgent, startMaster } from '../../helpers/processes.js';

/** A running master and its agents. */
export interface LiveGrid {
  readonly masterAddress: string;
  readonly token: string;
  readonly agentIds: readonly string[];
  /** Runs `fn` with a session on the master (an operator acting outside Pulumi). */
  master<T>(fn: (m: MasterClient) => Promise<T>): Promise<T>;
  /** Nodes of `cluster` in status `running`. */
  runningNodes(cluster: string): Promise<GridNode[]>;
  /** The master's output so far, for diagnosing a failure. */
  masterLogs(): string;
}

/** Fast monitoring so tests do not wait on production intervals. */
const HEARTBEAT = '200ms';

/** Starts a master and `agentIds.length` agents (each allowed `maxNodes` nodes), all registered. */
export async function startLiveGrid(opts: { agentIds: readonly string[]; maxNodes?: number; token: string }): Promise<LiveGrid> {
  const env = { SUTRA_GRID_TOKEN: opts.token };
  const master = await startMaster({
    env,
    args: ['--heartbeat-interval', HEARTBEAT, '--degraded-after', '2s', '--offline-after', '4s', '--health-check-interval', '200ms'],
  });
  // A master that crashes mid-test otherwise shows up only as ECONNREFUSED: say why it died.
  void master.exited.then((exit) => {
    if (exit.code !== null && exit.code !== 0) process.stderr.write(`live grid: master ${master.address} exited ${JSON.stringify(exit)}; output:\n${master.logs().slice(-4000)}\n`);
  });
  // Each agent gets its own node port block (the helper's): agents sharing a range race for its
  // first ports, and those of parallel test files did.
  await Promise.all(
    opts.agentIds.map((id) =>
      startAgent({ id, master: master.address, env, args: ['--max-nodes', String(opts.maxNodes ?? 4), '--heartbeat-interval', HEARTBEAT] }),
    ),
  );
  const target = { address: master.address, token: opts.token };
  const grid: LiveGrid = {
    masterAddress: master.address,
    token: opts.token,
    agentIds: opts.agentIds,
    master: (fn) => withMaster(target, fn),
    masterLogs: () => master.logs(),
    runningNodes: (cluster) =>
      withMaster(target, async (m) => (await m.listNodes()).filter((n) => n.cluster === cluster && n.status === 'running')),
  };
  // Agents register asynchronously after they start listening.
  await eventually(
    () => withMaster(target, async (m) => (await m.getClusterStatus()).agentsHealthy === opts.agentIds.length),
    20_000,
    100,
  );
  return grid;
}

/**
 * Asserts that `cluster` settles at `count` running nodes. Polled: on a loaded machine a node can
 * flap (a slow health check, a restart) right after the provider saw it running, and the grid
 * heals itself; what matters is that it is, or is again, as declared.
 */
export async function expectRunning(grid: LiveGrid, cluster: string, count: number, timeoutMs = 15_000): Promise<void> {
  let last: GridNode[] = [];
  try {
    await eventually(async () => {
      last = await grid.master(async (m) => (await m.listNodes()).filter((n) => n.cluster === cluster));
      return last.filter((n) => n.status === 'running').length === count;
    }, timeoutMs, 200);
  } catch {
    const seen = last.map((n) => `${n.nodeId}@${n.agentId}:${n.status}${n.lastExit ? ` (${n.lastExit})` : ''}`).join(', ');
    throw new Error(`cluster ${cluster}: expected ${count} running nodes within ${timeoutMs} ms; last seen [${seen}]`);
  }
}

/** A grid spec for the live grid's agents with one cluster of `nodes` nodes. */
export function specFor(grid: Pick<LiveGrid, 'agentIds'>, nodes: number, name = 'lab'): Record<string, unknown> {
  return {
    name,
    monitoring: { heartbeatInterval: HEARTBEAT, degradedAfter: '2s', offlineAfter: '4s', replaceAfter: '30s' },
    storage: { memory: '64Mi' },
    agents: grid.agentIds.map((id) => ({ id, capacity: { nodes: 4 } })),
    clusters: [{ name: 'kg', nodes, topology: 'leader-replicas' }],
  };
}
