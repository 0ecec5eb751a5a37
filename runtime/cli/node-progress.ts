import type { GridView, RolloutStatus } from '../../client/index.js';

/**
 * Progress lines of a convergence wait, one per change: each node's (`kg-1 on agent-1: running
 * (port 50051, pid 4242)`, `kg-2 on agent-2: removed`) and each rollout's step (`rollout of
 * cluster kg: step 2, 1 of 4 nodes restarted and healthy`, `rollout of cluster kg: done`).
 * Returns the `onView` callback of the wait for `generation`; nodes spawned by hand (no cluster)
 * are left out.
 */
export function nodeProgress(progress: (line: string) => void, generation = 0): (view: GridView) => void {
  const seen = new Map<string, string>();
  const rollouts = new Map<string, string>();
  return ({ nodes, status }) => {
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
    // Rollouts of earlier generations (a failed one stays listed) are not this wait's news.
    for (const r of status.reconcile.rollouts.filter((x) => x.generation >= generation)) {
      const key = `${r.cluster}/${r.generation}`;
      const line = rolloutLine(r);
      if (rollouts.get(key) === line) continue;
      rollouts.set(key, line);
      progress(line);
    }
  };
}

function rolloutLine(r: RolloutStatus): string {
  const where = `rollout of cluster ${r.cluster} (generation ${r.generation})`;
  switch (r.state) {
    case 'rolling':
      return `${where}: step ${r.step}, ${r.nodesDone} of ${r.nodesTotal} nodes restarted and healthy`;
    case 'done':
      return `${where}: done, ${r.nodesDone} of ${r.nodesTotal} nodes restarted and healthy`;
    default:
      return `${where}: ${r.state} at step ${r.step}${r.reason !== '' ? `: ${r.reason}` : ''}`;
  }
}
