import type { NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import type { Plan } from '../../plan/index.js';
import { sleep } from '../../client/transport.js';
import type { MasterConnection } from './master-client.js';

/** Where convergence stands after waiting. */
export interface ConvergeResult {
  readonly converged: boolean;
  /** What is left, one item per node or cluster, when not converged. */
  readonly remaining: readonly string[];
  /** True when `signal` ended the wait (Ctrl+C) before convergence or the timeout. */
  readonly interrupted?: boolean;
}

/** Asks the master for a dry-run plan of `specJson` against the live grid. */
export async function dryRun(conn: MasterConnection, specJson: string): Promise<{ plan: Plan; generation: number }> {
  const res = await conn.call('applySpec', { specJson, dryRun: true });
  return { plan: JSON.parse(res.planJson) as Plan, generation: res.generation };
}

/**
 * Polls until the grid matches the spec: a dry-run plan with nothing to do and nothing unplaced,
 * and every declared cluster running all its nodes. Reports node changes through `progress`.
 * Ends early, `interrupted`, when `signal` aborts (Ctrl+C must not wait out the timeout).
 */
export async function waitConverged(
  conn: MasterConnection,
  specJson: string,
  timeoutMs: number,
  progress: (line: string) => void = () => undefined,
  pollMs = 300,
  signal?: AbortSignal,
): Promise<ConvergeResult> {
  const deadline = Date.now() + timeoutMs;
  const seen = new Map<string, string>();
  let remaining: string[] = [];
  for (;;) {
    if (signal?.aborted) return { converged: false, remaining, interrupted: true };
    const [{ plan }, status, { nodes }] = await Promise.all([
      dryRun(conn, specJson),
      conn.call('getClusterStatus', {}),
      conn.call('listNodes', { agentId: '', cluster: '' }),
    ]);
    reportNodes(nodes, seen, progress);
    remaining = [
      ...plan.actions.map((a) => `${a.op} ${a.nodeId} on ${a.agentId}: ${a.reason}`),
      ...plan.unplaced.map((u) => u.reason),
      ...status.clusters.filter((c) => c.running < c.desired).map((c) => `cluster ${c.name}: ${c.running}/${c.desired} running`),
    ];
    if (remaining.length === 0) return { converged: true, remaining };
    if (Date.now() >= deadline) return { converged: false, remaining };
    await sleep(pollMs, signal).catch(() => undefined);
  }
}

function reportNodes(nodes: readonly NodeInfo[], seen: Map<string, string>, progress: (line: string) => void): void {
  const present = new Set<string>();
  for (const n of nodes) {
    if (n.cluster === '') continue;
    const key = `${n.agentId}/${n.nodeId}`;
    present.add(key);
    const state = `${n.status}:${n.pid}`;
    if (seen.get(key) === state) continue;
    seen.set(key, state);
    const detail = n.status === 'running' ? ` (port ${n.port}, pid ${n.pid})` : '';
    progress(`${n.nodeId} on ${n.agentId}: ${n.status}${detail}`);
  }
  for (const key of [...seen.keys()]) {
    if (present.has(key)) continue;
    seen.delete(key);
    const [agentId, nodeId] = key.split('/');
    progress(`${nodeId} on ${agentId}: removed`);
  }
}
