/**
 * A memory change restarts a cluster's nodes in place even when every node has a stalled client
 * (issue 18): each stop is bounded by the storage-server's drain, no stop is reported failed, no
 * spawn collides with a copy still stopping, the cluster always keeps a running node, and every
 * node comes back on the agent the plan printed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive } from '../helpers/processes.js';
import { stalledClient } from '../storage/support/stalled-client.js';
import { DeclarativeGrid, duplicates, gridSpec } from './support/declarative-grid.js';

let grid: DeclarativeGrid | undefined;

afterEach(async () => {
  const leaked = (await grid?.teardown()) ?? [];
  grid = undefined;
  expect(leaked).toEqual([]);
});

const ROUNDS = 10;
/** The storage-server's default drain, plus the agent's own work around the stop under load. */
const STOP_BOUND_MS = 2_000 + 1_500;

function spec(memory: string): Record<string, unknown> {
  // The rollout's minHealthyTime (10 s by default) is not what this measures: the stops are.
  return { ...gridSpec([{ id: 'a1' }, { id: 'a2' }], [{ name: 'kv', nodes: 2, update: { minHealthyTime: '100ms' } }]), storage: { memory } };
}

describe('restart in place with stalled clients', () => {
  it(`keeps a node running and each node on its planned agent, ${ROUNDS} memory changes in a row`, async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    // The agent's default grace (10 s): the stop that raced the master's deadline before.
    await Promise.all(['a1', 'a2'].map((id) => grid!.agent(id, { monitoring: { stop_grace_secs: 10 } })));
    await grid.apply(grid.writeSpec(spec('64Mi')));

    for (let round = 1; round <= ROUNDS; round++) {
      const memory = round % 2 === 1 ? '96Mi' : '64Mi';
      const before = await grid.nodes('kv');
      expect(before.map((n) => n.status)).toEqual(['running', 'running']);
      const clients = await Promise.all(before.map((n) => stalledClient(`127.0.0.1:${n.port}`)));

      // Polls the master while the apply runs: the fewest running nodes of kv it ever listed.
      let minRunning = Infinity;
      let polling = true;
      const poller = (async () => {
        while (polling) {
          const nodes = await grid!.nodes('kv');
          minRunning = Math.min(minRunning, nodes.filter((n) => n.status === 'running').length);
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const t0 = Date.now();
      const res = await grid.apply(grid.writeSpec(spec(memory)), '60s').finally(() => (polling = false));
      await poller;
      const tookMs = Date.now() - t0;

      const planned = new Map([...res.stdout.matchAll(/-\/\+ replace (kv-\d) on (\S+) \(/g)].map((m) => [m[1]!, m[2]!]));
      expect(planned.size, res.stdout).toBe(2);
      const after = await grid.nodes('kv');
      expect(after.map((n) => `${n.nodeId}@${n.agentId} ${n.status} ${n.memoryMb}`)).toEqual(
        [...planned].sort().map(([id, agent]) => `${id}@${agent} running ${memory === '96Mi' ? 96 : 64}`),
      );
      expect(minRunning, `round ${round}: a poll saw no running node of kv`).toBeGreaterThanOrEqual(1);
      // Two stops bounded by the drain, one after the other, plus two spawns.
      expect(tookMs, `round ${round}`).toBeLessThan(2 * STOP_BOUND_MS + 8_000);
      for (const c of clients) process.kill(c.pid, 'SIGKILL');
      expect(duplicates(after)).toEqual([]);
      expect(before.every((n) => !isAlive(n.pid))).toBe(true);
    }

    const stops = await grid.events('StopSucceeded');
    expect(stops).toHaveLength(2 * ROUNDS);
    for (const e of stops) expect(Number(e.payload['durationMs'])).toBeLessThan(STOP_BOUND_MS);
    expect(await grid.events('StopFailed')).toEqual([]);
    expect(await grid.events('SpawnFailed')).toEqual([]);
    expect(grid.masterLogs()).not.toMatch(/already exists/);
  }, 240_000);
});
