/**
 * Reading the live grid into outputs, and waiting for it to converge (after an apply) or drain
 * (after a delete). Convergence is judged from what the master reports: every declared node
 * running, nothing left over, and the master's own dry-run plan empty.
 */
import type { NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import type { GetClusterStatusResponse } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { renderAction, type Plan } from '../../plan/index.js';
import { declaredClusters, type ClusterHealthOutput, type Placement } from './grid-inputs.js';
import type { MasterSession } from './master-session.js';

/** What the master reports about the grid, in output form. */
export interface LiveGrid {
  readonly placements: Placement[];
  readonly clusterHealth: ClusterHealthOutput[];
  readonly health: string;
  readonly specGeneration: number;
}

/** Statuses of a node that is on its way somewhere: never converged while one is present. */
const TRANSITIONAL = new Set(['starting', 'restarting', 'stopping']);
/** Statuses of a node whose process is gone. */
const GONE = new Set(['stopped', 'failed']);

/** Parses the master's plan JSON; a malformed plan is the master's bug, reported as such. */
export function parsePlan(planJson: string): Plan {
  try {
    return JSON.parse(planJson) as Plan;
  } catch (err) {
    throw new Error(`the master returned a plan that is not JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** One line per planned action and per unplaceable cluster, as `pulumi preview --diff` shows them. */
export function planLines(plan: Plan): string[] {
  return [...plan.actions.map((a) => renderAction(a).trim()), ...plan.unplaced.map((u) => `! ${u.reason}`)];
}

function toPlacement(n: NodeInfo): Placement {
  return { nodeId: n.nodeId, agentId: n.agentId, port: n.port, role: n.role, cluster: n.cluster, status: n.status, memoryMb: n.memoryMb };
}

/** The live grid restricted to the clusters `spec` declares, in a stable order. */
export function liveGrid(spec: unknown, nodes: readonly NodeInfo[], status: GetClusterStatusResponse): LiveGrid {
  const names = new Set(declaredClusters(spec).map((c) => c.name));
  const placements = nodes
    .filter((n) => names.has(n.cluster))
    .map(toPlacement)
    .sort((a, b) => a.cluster.localeCompare(b.cluster) || a.nodeId.localeCompare(b.nodeId) || a.agentId.localeCompare(b.agentId));
  const clusterHealth = status.clusters
    .filter((c) => names.has(c.name))
    .map((c) => ({ name: c.name, desired: c.desired, running: c.running, health: c.health, leaderNodeId: c.leaderNodeId }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { placements, clusterHealth, health: status.health, specGeneration: status.specGeneration };
}

/** Reads the live grid for `spec` from the master. */
export async function readLiveGrid(master: MasterSession, spec: unknown): Promise<LiveGrid> {
  const [nodes, status] = await Promise.all([master.listNodes(), master.getClusterStatus()]);
  return liveGrid(spec, nodes, status);
}

function describeNode(n: NodeInfo): string {
  const exit = n.lastExit ? `, ${n.lastExit}` : '';
  return `${n.nodeId} on ${n.agentId}: ${n.status}${exit}`;
}

/**
 * Why the grid does not match `spec` yet, one line per cluster or node; empty when every declared
 * node runs and no node of an undeclared cluster is still up.
 */
export function convergenceGaps(spec: unknown, nodes: readonly NodeInfo[], specGeneration: number, generation: number): string[] {
  const gaps: string[] = [];
  if (specGeneration < generation) gaps.push(`the master has not started generation ${generation} yet (at ${specGeneration})`);
  const declared = declaredClusters(spec);
  const names = new Set(declared.map((c) => c.name));
  for (const c of declared) {
    const mine = nodes.filter((n) => n.cluster === c.name);
    const running = mine.filter((n) => n.status === 'running');
    const moving = mine.filter((n) => TRANSITIONAL.has(n.status) || n.status === 'failed');
    if (running.length !== c.nodes || mine.some((n) => TRANSITIONAL.has(n.status))) {
      const detail = moving.length > 0 ? ` (${moving.map(describeNode).join('; ')})` : '';
      gaps.push(`cluster ${c.name}: ${running.length} of ${c.nodes} nodes running${detail}`);
    }
  }
  const leftovers = nodes.filter((n) => n.cluster !== '' && !names.has(n.cluster) && !GONE.has(n.status));
  for (const n of leftovers) gaps.push(`node ${n.nodeId} of undeclared cluster ${n.cluster} is still ${n.status} on ${n.agentId}`);
  return gaps;
}

/** Knobs of the wait loops. */
export interface WaitOptions {
  readonly timeoutMs: number;
  /** First poll delay; grows to 1 s. @default 200 */
  readonly pollMs?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Outcome of {@link waitConverged}: the last live view, and what was still missing (empty on success). */
export interface ConvergeOutcome {
  readonly live: LiveGrid;
  readonly gaps: string[];
}

/**
 * Polls until the grid matches `spec` at `generation` or the timeout passes. When the live view
 * looks converged, the master's dry-run plan confirms it (catching what counting cannot: memory
 * or role changes still to roll out).
 */
export async function waitConverged(
  master: MasterSession,
  spec: unknown,
  specJson: string,
  generation: number,
  opts: WaitOptions,
): Promise<ConvergeOutcome> {
  const deadline = Date.now() + opts.timeoutMs;
  let delay = opts.pollMs ?? 200;
  for (;;) {
    const [nodes, status] = await Promise.all([master.listNodes(), master.getClusterStatus()]);
    const live = liveGrid(spec, nodes, status);
    let gaps = convergenceGaps(spec, nodes, status.specGeneration, generation);
    if (gaps.length === 0) {
      const plan = parsePlan((await master.applySpec(specJson, undefined, true)).planJson);
      gaps = planLines(plan).map((l) => `still planned: ${l}`);
      if (gaps.length === 0) return { live, gaps };
    }
    if (Date.now() >= deadline) return { live, gaps };
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    delay = Math.min(delay * 2, 1000);
  }
}

/** Polls until no node of `clusters` is up any more, or the timeout passes; returns what is still up. */
export async function waitDrained(master: MasterSession, clusters: ReadonlySet<string>, opts: WaitOptions): Promise<string[]> {
  const deadline = Date.now() + opts.timeoutMs;
  let delay = opts.pollMs ?? 200;
  for (;;) {
    const nodes = await master.listNodes();
    const up = nodes.filter((n) => clusters.has(n.cluster) && !GONE.has(n.status));
    if (up.length === 0) return [];
    if (Date.now() >= deadline) return up.map((n) => `cluster ${n.cluster}: node ${describeNode(n)}`);
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    delay = Math.min(delay * 2, 1000);
  }
}
