/**
 * Chaos against a real 3-agent, 12-node grid: seeded random kill -9 of nodes, agents and the
 * master, and agent SIGSTOPs, then every fault healed. The grid must converge with exactly one copy
 * of each node, no orphan process, no event index reused or out of order, and an empty plan.
 *
 * CHAOS_SEED picks the faults (a failure prints it, so the run can be repeated); CHAOS_FAULTS how
 * many (30 here; `npm run chaos` runs more).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EventsClient } from '../events-e2e/support.js';
import { DeclarativeGrid } from '../declarative/support/declarative-grid.js';
import { chaosSpec, converged, indexProblems, masterAddress, orphans, runChaos, AGENTS } from './chaos-run.js';

const SEED = Number(process.env['CHAOS_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const FAULTS = Number(process.env['CHAOS_FAULTS'] ?? 30);

let grid: DeclarativeGrid | undefined;

afterEach(async () => {
  const leaked = (await grid?.teardown()) ?? [];
  grid = undefined;
  expect(leaked).toEqual([]);
});

describe(`chaos (seed ${SEED}, ${FAULTS} faults)`, () => {
  it('converges after random kills and hangs with every invariant intact', async () => {
    grid = new DeclarativeGrid();
    const listen = masterAddress();
    await grid.startMaster(listen);
    await Promise.all(AGENTS.map((id) => grid!.agent(id, { maxNodes: 6 })));
    const file = grid.writeSpec(chaosSpec());
    await grid.apply(file);

    // WHEN the faults are injected and then healed
    const lines: string[] = [];
    const report = await runChaos(grid, listen, SEED, FAULTS, (l) => lines.push(l));
    const context = `seed ${SEED}; faults:\n${lines.join('\n')}`;

    // THEN the grid converges: 12 running nodes, one copy each, every agent healthy
    const healedAt = Date.now();
    const nodes = await converged(grid, 60_000).catch(async (err: unknown) => {
      const now = await grid!.nodes();
      throw new Error(`${(err as Error).message}\n${context}\nnodes: ${now.map((n) => `${n.nodeId}@${n.agentId} ${n.status}`).join(', ')}`);
    });
    const kinds = Object.entries({ 'node kill -9': /^node pid/, 'agent kill -9': /^agent \S+ kill -9/, 'agent SIGSTOP': /SIGSTOP$/, 'master kill -9': /^master kill/ })
      .map(([k, re]) => `${k}: ${report.faults.filter((f) => re.test(f.what)).length}`);
    console.log(`chaos seed ${SEED}: ${report.injected} faults (${kinds.join(', ')}) over ${report.faults.at(-1)?.atMs ?? 0} ms; converged ${Date.now() - healedAt} ms after the last heal`);
    expect(nodes.map((n) => n.nodeId).sort(), context).toEqual([...Array(6).keys()].flatMap((i) => [`kv-${i}`, `st-${i}`]).sort());
    // AND no storage process runs that the master does not list
    expect(orphans(grid, nodes), context).toEqual([]);
    // AND the plan has nothing left to do
    const plan = await grid.cli('plan', file);
    expect(plan.code, `${plan.stdout}${plan.stderr}\n${context}`).toBe(0);
    // AND no event index was reused or went backwards; gaps only where a kill -9 lost a tail
    const client = new EventsClient(grid.master.address);
    try {
      const all = await client.list();
      const raw = all.map((e) => ({ ...e, payloadJson: JSON.stringify(e.payload) }));
      const problems = indexProblems(report.seen, raw);
      expect(problems.reused, context).toEqual([]);
      expect(problems.disorder, context).toEqual([]);
      expect(problems.gaps, context).toBeLessThanOrEqual(report.masterKills);
      expect(report.injected, context).toBe(FAULTS);
    } finally {
      client.close();
    }
  }, 240_000);
});
