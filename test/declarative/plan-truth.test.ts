/**
 * The plan is the truth, as a property of the real grid: from a seed, random spec edits (scale up
 * and down, memory, placement strategy, pins and selectors, clusters and agents added and removed);
 * for each, the creates, destroys, replaces and updates `plan --json` printed equal what `apply`
 * then did, as the node lists before and after show it (not as the plan says), and the next plan
 * is empty. Seeded and reproducible: PLAN_TRUTH_SEED replays a run, PLAN_TRUTH_EDITS sets its
 * length (`npm run plan-truth` runs 200 from a random seed; CI runs a short one from seed 1).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { prng } from '../helpers/prng.js';
import { DeclarativeGrid } from './support/declarative-grid.js';

const EDITS = Number(process.env['PLAN_TRUTH_EDITS'] ?? 10);
// A fixed seed by default, so CI runs the same edits every time; `npm run plan-truth` picks a new one.
const SEED_TEXT = process.env['PLAN_TRUTH_SEED'] ?? '1';
const SEED = SEED_TEXT === 'random' ? Date.now() % 1_000_000 : Number(SEED_TEXT);
const AGENT_IDS = ['a1', 'a2', 'a3', 'a4'];
const CLUSTER_NAMES = ['c1', 'c2', 'c3', 'c4'];

interface AgentDecl { id: string; zone: string }
interface ClusterDecl {
  name: string;
  nodes: number;
  topology: 'standalone' | 'leader-replicas';
  memory: '64Mi' | '96Mi';
  strategy: 'spread' | 'binpack';
  pins: string[];
  zone: string | undefined;
}
interface GridDecl { agents: AgentDecl[]; clusters: ClusterDecl[] }

/** A node as a node list shows it. */
interface Seen { nodeId: string; agentId: string; pid: number; memoryMb: number; role: string; status: string }

let grid: DeclarativeGrid | undefined;

afterEach(async () => {
  const leaked = (await grid?.teardown()) ?? [];
  grid = undefined;
  expect(leaked).toEqual([]);
});

function specOf(d: GridDecl): Record<string, unknown> {
  return {
    name: 'truth',
    monitoring: { heartbeatInterval: '200ms', degradedAfter: '800ms', offlineAfter: '1600ms', replaceAfter: '1s', restart: { backoff: '50ms' } },
    storage: { memory: '64Mi' },
    agents: d.agents.map((a) => ({ id: a.id, platform: 'process', capacity: { nodes: 4 }, labels: { zone: a.zone } })),
    clusters: d.clusters.map((c) => ({
      name: c.name,
      nodes: c.nodes,
      topology: c.topology,
      memory: c.memory,
      update: { minHealthyTime: '100ms', healthyDeadline: '60s' },
      placement: { strategy: c.strategy, agents: c.pins, selector: c.zone !== undefined ? { zone: c.zone } : {} },
    })),
  };
}

/** One random edit of `d` (a copy), and what it was. */
function edit(d: GridDecl, rnd: () => number): { next: GridDecl; what: string } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const next: GridDecl = structuredClone(d);
  const c = next.clusters.length > 0 ? pick(next.clusters) : undefined;
  const kinds = c === undefined ? ['add-cluster', 'add-agent', 'remove-agent'] : ['scale', 'scale', 'memory', 'strategy', 'pins', 'selector', 'add-cluster', 'remove-cluster', 'add-agent', 'remove-agent', 'zone'];
  const kind = pick(kinds);
  switch (kind) {
    case 'scale':
      c!.nodes = Math.max(1, Math.min(4, c!.nodes + (rnd() < 0.5 ? -1 : 1)));
      return { next, what: `scale ${c!.name} to ${c!.nodes}` };
    case 'memory':
      c!.memory = c!.memory === '64Mi' ? '96Mi' : '64Mi';
      return { next, what: `memory of ${c!.name} to ${c!.memory}` };
    case 'strategy':
      c!.strategy = c!.strategy === 'spread' ? 'binpack' : 'spread';
      return { next, what: `strategy of ${c!.name} to ${c!.strategy}` };
    case 'pins': {
      const declared = next.agents.map((a) => a.id);
      c!.pins = rnd() < 0.4 ? [] : declared.filter(() => rnd() < 0.6);
      return { next, what: `pins of ${c!.name} to [${c!.pins.join(',')}]` };
    }
    case 'selector':
      c!.zone = rnd() < 0.5 ? undefined : pick(['z1', 'z2']);
      return { next, what: `selector of ${c!.name} to ${c!.zone ?? 'none'}` };
    case 'zone': {
      const a = pick(next.agents);
      a.zone = a.zone === 'z1' ? 'z2' : 'z1';
      return { next, what: `zone of ${a.id} to ${a.zone}` };
    }
    case 'add-cluster': {
      const free = CLUSTER_NAMES.filter((n) => !next.clusters.some((x) => x.name === n));
      if (free.length === 0) return { next, what: 'nothing (every cluster exists)' };
      const added: ClusterDecl = { name: pick(free), nodes: 1 + Math.floor(rnd() * 3), topology: rnd() < 0.5 ? 'standalone' : 'leader-replicas', memory: '64Mi', strategy: 'spread', pins: [], zone: undefined };
      next.clusters.push(added);
      return { next, what: `add ${added.topology} cluster ${added.name} of ${added.nodes}` };
    }
    case 'remove-cluster':
      next.clusters = next.clusters.filter((x) => x !== c);
      return { next, what: `remove cluster ${c!.name}` };
    case 'add-agent': {
      const free = AGENT_IDS.filter((id) => !next.agents.some((a) => a.id === id));
      if (free.length === 0) return { next, what: 'nothing (every agent declared)' };
      const id = pick(free);
      next.agents.push({ id, zone: pick(['z1', 'z2']) });
      return { next, what: `declare agent ${id}` };
    }
    default: {
      if (next.agents.length <= 2) return { next, what: 'nothing (two agents left)' };
      const gone = pick(next.agents);
      next.agents = next.agents.filter((a) => a !== gone);
      for (const x of next.clusters) x.pins = x.pins.filter((p) => p !== gone.id);
      return { next, what: `undeclare agent ${gone.id}` };
    }
  }
}

/**
 * The copies that exist: a destroyed node's agent may list it as `stopped` (no process) for a
 * moment after apply returns; it is gone, as its destroy said.
 */
async function seen(g: DeclarativeGrid): Promise<Map<string, Seen>> {
  const nodes = (await g.nodes()).filter((n) => n.status !== 'stopped');
  return new Map(nodes.map((n) => [`${n.nodeId}@${n.agentId}`, { nodeId: n.nodeId, agentId: n.agentId, pid: n.pid, memoryMb: n.memoryMb, role: n.role, status: n.status }]));
}

interface PlanJson {
  actions: { op: string; nodeId: string; agentId: string; fromAgentId?: string; handoverTo?: string }[];
  unplaced: unknown[];
}

/** What the node lists say happened, in the plan's terms (sorted lines). */
function observed(before: Map<string, Seen>, after: Map<string, Seen>): string[] {
  const lines: string[] = [];
  const byIdBefore = new Map([...before.values()].map((n) => [n.nodeId, n]));
  const byIdAfter = new Map([...after.values()].map((n) => [n.nodeId, n]));
  for (const [id, n] of byIdAfter) {
    const was = byIdBefore.get(id);
    if (was === undefined) lines.push(`create ${id}@${n.agentId}`);
    else if (was.agentId !== n.agentId || was.pid !== n.pid) lines.push(`replace ${id}@${was.agentId}->${n.agentId}`);
    else if (was.role !== n.role) lines.push(`update ${id}@${n.agentId}`);
  }
  for (const [id, n] of byIdBefore) if (!byIdAfter.has(id)) lines.push(`destroy ${id}@${n.agentId}`);
  return lines.sort();
}

/** The plan's actions in the same terms; a leader's handover shows as an update of its heir. */
function planned(plan: PlanJson, before: Map<string, Seen>): string[] {
  const lines = plan.actions.map((a) => (a.op === 'replace' ? `replace ${a.nodeId}@${a.fromAgentId ?? '?'}->${a.agentId}` : `${a.op} ${a.nodeId}@${a.agentId}`));
  for (const a of plan.actions) {
    if (a.handoverTo === undefined) continue;
    const heir = [...before.values()].find((n) => n.nodeId === a.handoverTo);
    lines.push(`update ${a.handoverTo}@${heir?.agentId ?? '?'}`);
  }
  return lines.sort();
}

describe('the plan is the truth', () => {
  it(`${EDITS} random spec edits on a real grid: each plan equals what apply did, and the next plan is empty (seed ${SEED})`, async () => {
    const rnd = prng(SEED);
    const g = (grid = new DeclarativeGrid());
    await g.startMaster();
    await Promise.all(AGENT_IDS.map((id) => g.agent(id)));
    let decl: GridDecl = {
      agents: [{ id: 'a1', zone: 'z1' }, { id: 'a2', zone: 'z2' }, { id: 'a3', zone: 'z1' }],
      clusters: [{ name: 'c1', nodes: 2, topology: 'leader-replicas', memory: '64Mi', strategy: 'spread', pins: [], zone: undefined }],
    };
    await g.apply(g.writeSpec(specOf(decl)), '90s');
    let applied = 0;
    const log: string[] = [];
    for (let i = 0; i < EDITS; i++) {
      const { next, what } = edit(decl, rnd);
      const file = g.writeSpec(specOf(next), `edit-${i}.yaml`);
      const planRes = await g.cli('plan', file, '--json');
      // A spec the checks refuse, or one that cannot be placed, is not applied: the property is about plans that apply.
      if (planRes.code === 1) {
        log.push(`#${i} ${what}: refused (${planRes.stderr.split('\n')[0] ?? ''})`);
        continue;
      }
      const plan = JSON.parse(planRes.stdout) as PlanJson;
      if (plan.unplaced.length > 0) {
        log.push(`#${i} ${what}: not placeable, skipped`);
        continue;
      }
      const before = await seen(g);
      const res = await g.cli('apply', file, '--auto-approve', '--timeout', '90s');
      expect(res.code, `seed ${SEED} edit #${i} (${what}): apply failed\n${res.stdout}\n${res.stderr}\n${log.join('\n')}`).toBe(0);
      const after = await seen(g);
      const health = () => g.masterLogs().split('\n').filter((l) => /degraded|offline|recovered|reconcil/i.test(l)).slice(-15).join('\n');
      expect(observed(before, after), `seed ${SEED} edit #${i} (${what}): what apply did differs from the plan\n${log.join('\n')}\n${health()}`).toEqual(planned(plan, before));
      const again = await g.cli('plan', file);
      expect(again.code, `seed ${SEED} edit #${i} (${what}): a second plan is not empty\n${again.stdout}`).toBe(0);
      decl = next;
      applied++;
      log.push(`#${i} ${what}: ${plan.actions.length} actions`);
    }
    process.stdout.write(`plan truth, seed ${SEED}:\n${log.join('\n')}\n`);
    // Most edits apply: a run that refused them all would prove nothing.
    expect(applied, log.join('\n')).toBeGreaterThanOrEqual(Math.ceil(EDITS / 3));
  }, 120_000 + EDITS * 60_000);
});
