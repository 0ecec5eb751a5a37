/**
 * Can the declared clusters fit the declared agents at all? Each cluster alone is checked first
 * (exact). Clusters that fit alone may still not fit together when they compete for the same
 * agents: a max-flow over clusters -> eligible agents finds that, and its min cut names the
 * smallest set of clusters that is short (Hall's condition). Memory is modelled per cluster (how
 * many of its nodes an agent's memory holds) and as one total; mixed node sizes on one agent make
 * exact packing NP-hard, so this is a necessary condition and the scheduler has the final word.
 */

/** An agent's declared capacity. */
export interface CapacityAgent {
  readonly nodes: number;
  /** 0 = not limited. */
  readonly memoryMb: number;
}

/** A cluster's demand: `nodes` nodes of `memoryMb` each, on agents of index `eligible`. */
export interface CapacityDemand {
  readonly nodes: number;
  readonly memoryMb: number;
  readonly eligible: readonly number[];
}

/** A set of clusters that cannot fit. `need` and `canHold` are nodes, or MiB for `memory`. */
export interface CapacityShortfall {
  readonly kind: 'nodes' | 'memory';
  /** Indexes into the demands. */
  readonly demands: readonly number[];
  readonly need: number;
  readonly canHold: number;
  /** Indexes of the agents those demands may use. */
  readonly agents: readonly number[];
}

/** How many nodes of `demand` one agent can hold, by node count and memory. */
export function agentFit(agent: CapacityAgent, demand: Pick<CapacityDemand, 'memoryMb'>): number {
  if (agent.memoryMb <= 0) return agent.nodes;
  return Math.min(agent.nodes, Math.floor(agent.memoryMb / Math.max(1, demand.memoryMb)));
}

/** Every shortfall found: single clusters first, then competing sets, then total memory. */
export function findCapacityShortfalls(agents: readonly CapacityAgent[], demands: readonly CapacityDemand[]): CapacityShortfall[] {
  const shortfalls: CapacityShortfall[] = [];
  const fitting: number[] = [];
  // Clusters with the same placement share one `eligible` array (see semantic-checks), so sums are
  // computed once per distinct array and node size, not once per cluster.
  const sums = new Map<readonly number[], Map<number, number>>();
  const canHoldOf = (demand: CapacityDemand): number => {
    const bySize = sums.get(demand.eligible) ?? new Map<number, number>();
    sums.set(demand.eligible, bySize);
    let sum = bySize.get(demand.memoryMb);
    if (sum === undefined) {
      sum = 0;
      for (const a of demand.eligible) sum += agentFit(agents[a] ?? { nodes: 0, memoryMb: 0 }, demand);
      bySize.set(demand.memoryMb, sum);
    }
    return sum;
  };
  demands.forEach((demand, index) => {
    const canHold = canHoldOf(demand);
    if (canHold < demand.nodes) {
      shortfalls.push({ kind: 'nodes', demands: [index], need: demand.nodes, canHold, agents: demand.eligible });
    } else {
      fitting.push(index);
    }
  });
  const joint = jointShortfall(agents, demands, fitting);
  if (joint) shortfalls.push(joint);

  const usedSet = new Set<number>();
  for (const eligible of new Set(demands.map((d) => d.eligible))) for (const a of eligible) usedSet.add(a);
  const used = [...usedSet].sort((a, b) => a - b);
  if (used.length > 0 && used.every((a) => (agents[a]?.memoryMb ?? 0) > 0)) {
    const need = demands.reduce((sum, d) => sum + d.nodes * d.memoryMb, 0);
    const canHold = used.reduce((sum, a) => sum + (agents[a]?.memoryMb ?? 0), 0);
    if (need > canHold) {
      shortfalls.push({ kind: 'memory', demands: demands.map((_, i) => i), need, canHold, agents: used });
    }
  }
  return shortfalls;
}

/**
 * Edges the joint check may build. Within the spec limits, thousands of clusters with distinct
 * selectors each matching thousands of agents made millions of edges (seconds, a gigabyte); past
 * this budget the joint check is skipped: it is a necessary condition only, each cluster alone is
 * still checked exactly, and the scheduler has the final word.
 */
export const MAX_FLOW_EDGES = 200_000;

/**
 * Max-flow source -> demand group -> agent -> sink. Demands with the same eligible agents and node
 * memory are merged first: a large grid has many clusters but few distinct placements.
 */
function jointShortfall(
  agents: readonly CapacityAgent[],
  demands: readonly CapacityDemand[],
  candidates: readonly number[],
): CapacityShortfall | undefined {
  if (candidates.length < 2) return undefined; // a single cluster was already checked alone
  // An upper bound of the edges (distinct eligible lists that are equal in content merge later).
  const distinct = new Map<readonly number[], Set<number>>();
  let edges = 0;
  for (const index of candidates) {
    const demand = demands[index];
    if (!demand) continue;
    const sizes = distinct.get(demand.eligible) ?? new Set<number>();
    distinct.set(demand.eligible, sizes);
    if (sizes.has(demand.memoryMb)) continue;
    sizes.add(demand.memoryMb);
    edges += demand.eligible.length;
    if (edges > MAX_FLOW_EDGES) return undefined;
  }
  const groups = new Map<string, { members: number[]; nodes: number; memoryMb: number; eligible: readonly number[] }>();
  const signatures = new Map<readonly number[], string>();
  for (const index of candidates) {
    const demand = demands[index];
    if (!demand) continue;
    let signature = signatures.get(demand.eligible);
    if (signature === undefined) {
      signature = [...demand.eligible].sort((a, b) => a - b).join(',');
      signatures.set(demand.eligible, signature);
    }
    const key = `${demand.memoryMb}|${signature}`;
    const group = groups.get(key);
    if (group) {
      group.members.push(index);
      group.nodes += demand.nodes;
    } else {
      groups.set(key, { members: [index], nodes: demand.nodes, memoryMb: demand.memoryMb, eligible: demand.eligible });
    }
  }
  const list = [...groups.values()];

  const SOURCE = 0;
  const SINK = 1;
  const groupNode = (g: number): number => 2 + g;
  const agentNode = (a: number): number => 2 + list.length + a;
  const flow = new FlowNetwork(2 + list.length + agents.length);
  list.forEach((group, g) => {
    flow.addEdge(SOURCE, groupNode(g), group.nodes);
    for (const a of group.eligible) {
      const agent = agents[a];
      if (agent) flow.addEdge(groupNode(g), agentNode(a), agentFit(agent, group));
    }
  });
  agents.forEach((agent, a) => flow.addEdge(agentNode(a), SINK, agent.nodes));

  const total = list.reduce((sum, g) => sum + g.nodes, 0);
  const deficit = total - flow.maxFlow(SOURCE, SINK);
  if (deficit <= 0) return undefined;
  // Groups still reachable from the source in the residual graph form the violating set.
  const reachable = flow.reachableFrom(SOURCE);
  const short = list.filter((_, g) => reachable[groupNode(g)]);
  const need = short.reduce((sum, g) => sum + g.nodes, 0);
  return {
    kind: 'nodes',
    demands: short.flatMap((g) => g.members).sort((a, b) => a - b),
    need,
    canHold: need - deficit,
    agents: [...new Set(short.flatMap((g) => g.eligible))].sort((a, b) => a - b),
  };
}

/** Dinic's max-flow on integer capacities; small and fast enough for thousands of agents. */
class FlowNetwork {
  private readonly to: number[] = [];
  private readonly capacity: number[] = [];
  private readonly adjacency: number[][];
  private level: Int32Array;
  private cursor: Int32Array;

  constructor(private readonly size: number) {
    this.adjacency = Array.from({ length: size }, () => []);
    this.level = new Int32Array(size);
    this.cursor = new Int32Array(size);
  }

  addEdge(from: number, to: number, capacity: number): void {
    if (capacity <= 0) return;
    // Edge e and its residual twin e ^ 1 are stored side by side.
    this.adjacency[from]?.push(this.to.length);
    this.to.push(to);
    this.capacity.push(capacity);
    this.adjacency[to]?.push(this.to.length);
    this.to.push(from);
    this.capacity.push(0);
  }

  maxFlow(source: number, sink: number): number {
    let total = 0;
    while (this.buildLevels(source, sink)) {
      this.cursor.fill(0);
      for (let pushed = this.push(source, sink, Infinity); pushed > 0; pushed = this.push(source, sink, Infinity)) {
        total += pushed;
      }
    }
    return total;
  }

  /** Nodes reachable through edges with capacity left (the source side of a minimum cut). */
  reachableFrom(source: number): boolean[] {
    const seen = new Array<boolean>(this.size).fill(false);
    const queue = [source];
    seen[source] = true;
    for (let head = 0; head < queue.length; head++) {
      for (const e of this.adjacency[queue[head] ?? 0] ?? []) {
        const next = this.to[e] ?? 0;
        if (!seen[next] && (this.capacity[e] ?? 0) > 0) {
          seen[next] = true;
          queue.push(next);
        }
      }
    }
    return seen;
  }

  private buildLevels(source: number, sink: number): boolean {
    this.level.fill(-1);
    this.level[source] = 0;
    const queue = [source];
    for (let head = 0; head < queue.length; head++) {
      const node = queue[head] ?? 0;
      for (const e of this.adjacency[node] ?? []) {
        const next = this.to[e] ?? 0;
        if (this.level[next] === -1 && (this.capacity[e] ?? 0) > 0) {
          this.level[next] = (this.level[node] ?? 0) + 1;
          queue.push(next);
        }
      }
    }
    return this.level[sink] !== -1;
  }

  private push(node: number, sink: number, limit: number): number {
    if (node === sink) return limit;
    const edges = this.adjacency[node] ?? [];
    for (; (this.cursor[node] ?? 0) < edges.length; this.cursor[node] = (this.cursor[node] ?? 0) + 1) {
      const e = edges[this.cursor[node] ?? 0] ?? 0;
      const next = this.to[e] ?? 0;
      const room = this.capacity[e] ?? 0;
      if (room > 0 && this.level[next] === (this.level[node] ?? 0) + 1) {
        const pushed = this.push(next, sink, Math.min(limit, room));
        if (pushed > 0) {
          this.capacity[e] = room - pushed;
          this.capacity[e ^ 1] = (this.capacity[e ^ 1] ?? 0) + pushed;
          return pushed;
        }
      }
    }
    return 0;
  }
}
