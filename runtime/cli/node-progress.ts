import type { GridView } from '../../client/index.js';

/**
 * Progress lines of a convergence wait, one per node change: `kg-1 on agent-1: running (port
 * 50051, pid 4242)`, `kg-2 on agent-2: removed`. Returns the `onView` callback of the wait;
 * nodes spawned by hand (no cluster) are left out.
 */
export function nodeProgress(progress: (line: string) => void): (view: GridView) => void {
  const seen = new Map<string, string>();
  return ({ nodes }) => {
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
  };
}
