/**
 * Decides which agent each new node goes to. Filter (declared in the spec, not cordoned, healthy,
 * the declared platform, pins or label selector, free node slots, free ports, free memory), then score
 * (`spread` or `binpack`), ties broken by agent id, so the same input always yields the same
 * placement. The pool tracks usage as the plan is built: destroys release, placements charge.
 */
import type { CompiledAgentSpec, CompiledClusterSpec, CompiledGridSpec } from '../schema/index.js';
import { formatMemory, formatSelector, listSome } from './format.js';
import { IndexHeap } from './heap.js';
import type { LiveAgent } from './types.js';

/** One agent with its limits and the usage charged so far. */
interface PoolAgent {
  readonly id: string;
  /** Position in ascending id order: the deterministic tie-breaker. */
  readonly rank: number;
  readonly spec: CompiledAgentSpec | undefined;
  readonly live: LiveAgent | undefined;
  readonly labels: Readonly<Record<string, string>>;
  /** Why this agent takes no new node at all (cordoned, offline, undeclared, wrong platform...). */
  readonly blocked: { readonly kind: BlockKind; readonly text: string } | undefined;
  readonly nodeCap: number;
  readonly portCap: number;
  /** Infinity when memory is not limited. */
  readonly memCap: number;
  usedNodes: number;
  usedMem: number;
}

type BlockKind = 'draining' | 'cordoned' | 'offline' | 'degraded' | 'unregistered' | 'undeclared' | 'platform';

/** A node waiting for an agent. `avoid` is tried last (the agent where it just failed). */
export interface Slot {
  readonly ordinal: number;
  readonly memoryMb: number;
  readonly avoid?: string;
}

/** Outcome of placing one cluster's slots. `reason` explains `unplaced` when non-empty. */
export interface PlacementResult {
  readonly placed: ReadonlyMap<number, string>;
  readonly unplaced: readonly number[];
  readonly reason: string;
}

/** Tighter of two limits where 0 means "not stated". */
function tighter(a: number, b: number): number {
  if (a <= 0) return b <= 0 ? Infinity : b;
  return b <= 0 ? a : Math.min(a, b);
}

function matches(labels: Readonly<Record<string, string>>, selector: Readonly<Record<string, string>>): boolean {
  for (const k in selector) if (labels[k] !== selector[k]) return false;
  return true;
}

/** Agents, their limits and usage; one per plan. */
export class AgentPool {
  private readonly agents: PoolAgent[] = [];
  private readonly byId = new Map<string, PoolAgent>();
  /** Candidates of clusters with neither pins nor selector: every declared agent. */
  private readonly declared: PoolAgent[];
  /** cluster -> agent rank -> nodes of that cluster on that agent. Cluster-major, so placing one
   * cluster reads only the agents that hold its nodes instead of probing every agent. */
  private readonly clusterCounts = new Map<string, Map<number, number>>();
  /** Scratch: agent rank -> position in the current candidate list, -1 elsewhere. */
  private readonly position: Int32Array;
  /** Scratch: nodes of the cluster being placed, per candidate position (reused: no garbage per cluster). */
  private readonly mineScratch: Int32Array;
  /** Candidate lists by pins+selector: many clusters share a selector, each filter costs a pass over all agents. */
  private readonly candidateCache = new Map<string, PoolAgent[]>();

  /**
   * `cordons`: the operator's cordons, agent id -> reason (see `LiveState.cordons`); `draining`:
   * the agents being drained (see `LiveState.draining`).
   */
  constructor(
    spec: CompiledGridSpec,
    liveAgents: readonly LiveAgent[],
    cordons: Readonly<Record<string, string>> = {},
    private readonly draining: Readonly<Record<string, number>> = {},
  ) {
    const specById = new Map(spec.agents.map((a) => [a.id, a]));
    const liveById = new Map(liveAgents.map((a) => [a.id, a]));
    const ids = [...new Set([...specById.keys(), ...liveById.keys()])].sort();
    const defaultPorts = spec.storage.portRange.end - spec.storage.portRange.start + 1;
    ids.forEach((id, rank) => {
      const s = specById.get(id);
      const l = liveById.get(id);
      const ports = l?.portRange ? Math.max(0, l.portRange.end - l.portRange.start + 1) : defaultPorts;
      const agent: PoolAgent = {
        id,
        rank,
        spec: s,
        live: l,
        // Declared labels win: selectors are written against the spec, and validated there.
        labels: { ...l?.labels, ...s?.labels },
        blocked: blockOf(id, s, l, Object.hasOwn(cordons, id), Object.hasOwn(draining, id)),
        nodeCap: tighter(s?.capacity.nodes ?? 0, l?.capacity.nodes ?? 0),
        portCap: ports,
        memCap: tighter(s?.capacity.memoryMb ?? 0, l?.capacity.memoryMb ?? 0),
        usedNodes: 0,
        usedMem: 0,
      };
      this.agents.push(agent);
      this.byId.set(id, agent);
    });
    this.declared = this.agents.filter((a) => a.spec !== undefined);
    this.position = new Int32Array(this.agents.length).fill(-1);
    this.mineScratch = new Int32Array(this.agents.length);
  }

  /** Counts a node against its agent (existing nodes, and each placement the plan makes). */
  charge(agentId: string, cluster: string, memoryMb: number): void {
    const a = this.byId.get(agentId);
    if (!a) return;
    a.usedNodes += 1;
    a.usedMem += memoryMb;
    if (cluster) this.countIn(cluster, a.rank, 1);
  }

  /** Gives back what {@link charge} took (a node the plan destroys or moves away). */
  release(agentId: string, cluster: string, memoryMb: number): void {
    const a = this.byId.get(agentId);
    if (!a) return;
    a.usedNodes -= 1;
    a.usedMem -= memoryMb;
    if (cluster) this.countIn(cluster, a.rank, -1);
  }

  private countIn(cluster: string, rank: number, delta: number): void {
    let m = this.clusterCounts.get(cluster);
    if (!m) this.clusterCounts.set(cluster, (m = new Map()));
    m.set(rank, (m.get(rank) ?? 0) + delta);
  }

  /**
   * Whether `agentId` can take `extraMb` more memory without another node slot (a resize in place).
   * A cordoned agent can: the node restarts where it is, which places nothing new there.
   */
  canGrow(agentId: string, extraMb: number): boolean {
    const a = this.byId.get(agentId);
    return a !== undefined && (a.blocked === undefined || a.blocked.kind === 'cordoned' || a.blocked.kind === 'draining') && a.usedMem + extraMb <= a.memCap;
  }

  /** Whether an operator drains `agentId`: its nodes' moves are rollout steps. */
  isDraining(agentId: string): boolean {
    return Object.hasOwn(this.draining, agentId);
  }

  /**
   * Why a node of `cluster` may not stay on `agentId` under the current spec (agent dropped from
   * the spec, no longer pinned or selected, being drained), or undefined when it may. Health is not
   * judged here, nor a cordon: a cordoned agent keeps its nodes, a draining one does not.
   */
  misplacement(cluster: CompiledClusterSpec, agentId: string): string | undefined {
    const a = this.byId.get(agentId);
    if (!a?.spec) return `${agentId} is not declared in the spec`;
    if (this.isDraining(agentId)) return `${agentId} is draining`;
    if (a.live && a.live.platform !== a.spec.platform) return platformText(a);
    const { agents: pins, selector } = cluster.placement;
    if (pins.length > 0 && !pins.includes(agentId)) return `${agentId} is not among the pinned agents ${pins.join(', ')}`;
    if (!matches(a.labels, selector)) return `${agentId} does not match selector ${formatSelector(selector)}`;
    return undefined;
  }

  /** Places `slots` (in order) for `cluster`, charging each chosen agent. */
  place(cluster: CompiledClusterSpec, slots: readonly Slot[]): PlacementResult {
    const placed = new Map<number, string>();
    const unplaced: number[] = [];
    if (slots.length === 0) return { placed, unplaced, reason: '' };
    const candidates = this.candidates(cluster);
    // Nodes of this cluster per candidate, in a typed array: the comparator runs millions of
    // times on a large grid and must not touch a Map.
    const mine = this.mineScratch.subarray(0, candidates.length);
    mine.fill(0);
    const counts = this.clusterCounts.get(cluster.name);
    if (counts && counts.size > 0) {
      candidates.forEach((a, i) => (this.position[a.rank] = i));
      for (const [rank, n] of counts) {
        const i = this.position[rank]!;
        if (i >= 0) mine[i] = n;
      }
      for (const a of candidates) this.position[a.rank] = -1;
    }
    const before = this.order(cluster, candidates, mine);
    const fits = (a: PoolAgent, mb: number): boolean =>
      a.blocked === undefined && a.usedNodes < a.nodeCap && a.usedNodes < a.portCap && a.usedMem + mb <= a.memCap;
    const take = (slot: Slot, i: number): void => {
      const a = candidates[i]!;
      placed.set(slot.ordinal, a.id);
      mine[i]! += 1;
      this.charge(a.id, cluster.name, slot.memoryMb);
    };

    // Slots with an agent to avoid are rare (a node that just failed): a plain scan is fine, and
    // doing them first keeps the heap below valid (its keys change only through its own pops).
    const plain: Slot[] = [];
    for (const slot of slots) {
      if (slot.avoid === undefined) {
        plain.push(slot);
        continue;
      }
      let best = -1;
      let fallback = -1;
      candidates.forEach((a, i) => {
        if (!fits(a, slot.memoryMb)) return;
        if (a.id === slot.avoid) fallback = i;
        else if (best < 0 || before(i, best)) best = i;
      });
      const chosen = best >= 0 ? best : fallback;
      if (chosen >= 0) take(slot, chosen);
      else unplaced.push(slot.ordinal);
    }

    if (plain.length > 0) {
      // One cluster has one memory size, so an agent that cannot fit it now never will in this pass.
      const mb = plain[0]!.memoryMb;
      const fitting: number[] = [];
      candidates.forEach((a, i) => {
        if (fits(a, mb)) fitting.push(i);
      });
      const heap = new IndexHeap(before, fitting);
      for (const slot of plain) {
        const i = heap.pop();
        if (i === undefined) {
          unplaced.push(slot.ordinal);
          continue;
        }
        take(slot, i);
        if (fits(candidates[i]!, mb)) heap.push(i);
      }
    }
    unplaced.sort((x, y) => x - y);
    const reason = unplaced.length > 0 ? this.explain(cluster, candidates, slots[0]!.memoryMb) : '';
    return { placed, unplaced, reason };
  }

  /** Declared agents allowed by the cluster's pins and selector, in id order. */
  private candidates(cluster: CompiledClusterSpec): PoolAgent[] {
    const { agents: pins, selector } = cluster.placement;
    if (pins.length === 0 && Object.keys(selector).length === 0) return this.declared;
    const key = `${[...pins].sort().join(',')}\u0000${formatSelector(selector)}`;
    const cached = this.candidateCache.get(key);
    if (cached) return cached;
    let list = this.declared;
    if (pins.length > 0) {
      const pinned = new Set(pins);
      list = list.filter((a) => pinned.has(a.id));
    }
    if (Object.keys(selector).length > 0) list = list.filter((a) => matches(a.labels, selector));
    this.candidateCache.set(key, list);
    return list;
  }

  /**
   * The scoring order of `cluster`'s strategy as a strict "comes first" predicate over candidate
   * positions; `mine[i]` is the number of this cluster's nodes on candidate i.
   */
  private order(cluster: CompiledClusterSpec, candidates: readonly PoolAgent[], mine: Int32Array): (x: number, y: number) => boolean {
    if (cluster.placement.strategy === 'spread') {
      // Fewest nodes of this cluster (which also puts leader and replicas on distinct agents),
      // then fewest nodes overall.
      return (x, y) => {
        const cx = mine[x]!;
        const cy = mine[y]!;
        if (cx !== cy) return cx < cy;
        const a = candidates[x]!;
        const b = candidates[y]!;
        if (a.usedNodes !== b.usedNodes) return a.usedNodes < b.usedNodes;
        return a.rank < b.rank;
      };
    }
    const distinct = cluster.topology === 'leader-replicas';
    return (x, y) => {
      if (distinct) {
        // Leader and replicas on distinct agents where possible, before packing.
        const cx = mine[x]! > 0 ? 1 : 0;
        const cy = mine[y]! > 0 ? 1 : 0;
        if (cx !== cy) return cx < cy;
      }
      const a = candidates[x]!;
      const b = candidates[y]!;
      // Fullest first, as a fraction of its node limit (cross-multiplied: exact, no floats).
      const fa = a.usedNodes * Math.min(b.nodeCap, b.portCap);
      const fb = b.usedNodes * Math.min(a.nodeCap, a.portCap);
      if (fa !== fb) return fa > fb;
      if (a.usedNodes !== b.usedNodes) return a.usedNodes > b.usedNodes;
      return a.rank < b.rank;
    };
  }

  /** Why nothing more fits: every candidate's obstacle, grouped by kind. */
  private explain(cluster: CompiledClusterSpec, candidates: readonly PoolAgent[], mb: number): string {
    const { agents: pins, selector } = cluster.placement;
    const parts: string[] = [];
    if (pins.length > 0) {
      const missing = pins.filter((p) => !this.byId.get(p)?.spec);
      if (missing.length > 0) parts.push(`pinned agent${missing.length > 1 ? 's' : ''} ${listSome(missing)} not declared`);
    }
    if (candidates.length === 0) {
      if (Object.keys(selector).length > 0) parts.push(`no agent matches selector ${formatSelector(selector)}`);
      else if (pins.length === 0) parts.push('no agents declared');
      return parts.join('; ');
    }
    const groups = new Map<string, string[]>();
    const add = (kind: string, item: string): void => {
      const g = groups.get(kind);
      if (g) g.push(item);
      else groups.set(kind, [item]);
    };
    for (const a of candidates) {
      if (a.blocked) add(a.blocked.kind === 'platform' ? `platform:${a.blocked.text}` : a.blocked.kind, a.id);
      else if (a.usedNodes >= a.nodeCap) add('capacity', `${a.id} (${a.usedNodes}/${a.nodeCap})`);
      else if (a.usedNodes >= a.portCap) add('ports', `${a.id} (${a.usedNodes}/${a.portCap})`);
      else if (a.usedMem + mb > a.memCap) add('memory', `${a.id} (${a.usedMem}/${a.memCap} MiB used)`);
    }
    for (const [kind, items] of groups) {
      const many = items.length > 1;
      switch (kind) {
        case 'capacity': parts.push(`capacity exhausted on ${listSome(items)}`); break;
        case 'ports': parts.push(`ports exhausted on ${listSome(items)}`); break;
        case 'memory': parts.push(`not enough memory for ${formatMemory(mb)} on ${listSome(items)}`); break;
        case 'draining': parts.push(`${listSome(items)} ${many ? 'are' : 'is'} draining`); break;
        case 'cordoned': parts.push(`${listSome(items)} ${many ? 'are' : 'is'} cordoned`); break;
        case 'offline': parts.push(`${listSome(items)} ${many ? 'are' : 'is'} offline`); break;
        case 'degraded': parts.push(`${listSome(items)} ${many ? 'are' : 'is'} degraded`); break;
        case 'unregistered': parts.push(`${listSome(items)} ${many ? 'have' : 'has'} not registered`); break;
        default: parts.push(kind.slice('platform:'.length)); break;
      }
    }
    return parts.join('; ');
  }
}

function platformText(a: { id: string; live?: LiveAgent | undefined; spec?: CompiledAgentSpec | undefined }): string {
  return `${a.id} runs ${a.live?.platform}, spec declares ${a.spec?.platform}`;
}

function blockOf(id: string, s: CompiledAgentSpec | undefined, l: LiveAgent | undefined, operatorCordon: boolean, draining: boolean): PoolAgent['blocked'] {
  if (!s) return { kind: 'undeclared', text: `${id} is not declared in the spec` };
  if (draining) return { kind: 'draining', text: `${id} is draining` };
  // Before health: a cordon is the operator's decision and outlives the agent's state.
  if (s.cordoned === true || operatorCordon) return { kind: 'cordoned', text: `${id} is cordoned` };
  if (!l) return { kind: 'unregistered', text: `${id} has not registered` };
  if (l.health !== 'healthy') return { kind: l.health, text: `${id} is ${l.health}` };
  if (l.platform !== s.platform) return { kind: 'platform', text: platformText({ id, live: l, spec: s }) };
  return undefined;
}
