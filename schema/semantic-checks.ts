/**
 * Checks that JSON Schema cannot express: unique ids, pins and selectors that name real agents,
 * capacity, ports and monitoring thresholds. They run even when the schema found problems, so one
 * pass reports everything; each check reads values defensively and skips what the schema already
 * rejected, so nothing is reported twice.
 */
import { findCapacityShortfalls, agentFit, type CapacityAgent, type CapacityDemand } from './capacity-check.js';
import type { SpecErrorCode } from './errors.js';
import { gridSchema } from './grid-schema.generated.js';
import { SPEC_LIMITS } from './limits.js';
import { checkPorts } from './port-checks.js';
import type { RawDiagnostic } from './schema-check.js';
import { toPointer } from './source-map.js';
import { formatSize, parseDuration, parseSize } from './units.js';
import { arr, int, obj, str, type Json } from './values.js';

// The schema's own patterns: a value they reject was already reported by the schema check.
const DURATION_SYNTAX = new RegExp(gridSchema.$defs.duration.pattern);
const SIZE_SYNTAX = new RegExp(gridSchema.$defs.size.pattern);

/** Collects diagnostics; the checks below only call `report`. */
class Reporter {
  readonly diagnostics: RawDiagnostic[] = [];
  report(code: SpecErrorCode, path: ReadonlyArray<string | number>, message: string, severity: 'error' | 'warning' = 'error'): void {
    this.diagnostics.push({ code, message, pointer: toPointer(path), severity });
  }
}

/**
 * Runs every semantic check. `raw` is the spec as written (to point at what the user wrote);
 * `defaulted` is the same after schema defaults (to check the values in force).
 */
export function checkSemantics(raw: unknown, defaulted: unknown): RawDiagnostic[] {
  const reporter = new Reporter();
  const spec = obj(defaulted);
  if (!spec) return [];
  checkMonitoring(reporter, obj(obj(raw)?.monitoring), obj(spec.monitoring));
  const agents = arr(spec.agents).map(obj);
  const clusters = arr(spec.clusters).map(obj);
  const agentIndex = firstIndexById(reporter, agents, 'id', 'agents', 'agent id');
  firstIndexById(reporter, clusters, 'name', 'clusters', 'cluster name');
  const storageMemory = readSize(reporter, obj(spec.storage)?.memory, ['storage', 'memory']);
  if (!checkTotals(reporter, agents, clusters)) return reporter.diagnostics;
  checkPlacementAndCapacity(reporter, agents, clusters, agentIndex, storageMemory);
  clusters.forEach((cluster, c) => checkReplication(reporter, cluster, c));
  clusters.forEach((cluster, c) => checkUpdatePolicy(reporter, cluster, c));
  for (const problem of checkPorts(spec)) reporter.report(problem.code, problem.path, problem.message);
  return reporter.diagnostics;
}

/**
 * A count within [0, max], else undefined. Values past the maximum are refused by the schema
 * (`SPEC_LIMIT`), which `checkTotals` confirms before any check that allocates by count runs.
 */
function count(value: unknown, max: number): number | undefined {
  const n = int(value);
  return n !== undefined && n >= 0 && n <= max ? n : undefined;
}

/**
 * The limits JSON Schema cannot express (nodes of all clusters together), and the ones it can,
 * again: capacity and placement work is sized by these counts, so it must never run on a count
 * the schema let through (it once did: the schema had no maximum, and a non-safe integer was
 * skipped here as if the schema had reported it). False when the rest must not run.
 */
function checkTotals(reporter: Reporter, agents: ReadonlyArray<Json | undefined>, clusters: ReadonlyArray<Json | undefined>): boolean {
  // Numbers past a maximum (non-safe integers and 1e308 included) were reported by the schema.
  const tooLarge = (value: unknown, max: number): boolean => typeof value === 'number' && value > max;
  let within = agents.length <= SPEC_LIMITS.maxAgents && clusters.length <= SPEC_LIMITS.maxClusters;
  if (agents.some((agent) => tooLarge(obj(agent?.capacity)?.nodes, SPEC_LIMITS.maxAgentCapacityNodes))) within = false;
  if (clusters.some((cluster) => tooLarge(cluster?.nodes, SPEC_LIMITS.maxNodesPerCluster))) within = false;
  const total = clusters.reduce((sum, cluster) => sum + (count(cluster?.nodes, SPEC_LIMITS.maxNodesPerCluster) ?? 0), 0);
  if (total > SPEC_LIMITS.maxTotalNodes) {
    reporter.report('SPEC_LIMIT', ['clusters'], `clusters have ${total} nodes in total; a grid may have at most ${SPEC_LIMITS.maxTotalNodes}`);
    within = false;
  }
  return within;
}

function readDuration(reporter: Reporter, value: unknown, path: ReadonlyArray<string | number>): number | undefined {
  const text = str(value);
  if (text === undefined || !DURATION_SYNTAX.test(text)) return undefined;
  try {
    return parseDuration(text, path.join('.'));
  } catch (error) {
    reporter.report('SPEC_UNIT', path, (error as Error).message.replace(/^[^:]*: /, ''));
    return undefined;
  }
}

/** A size in MiB; undefined when absent or invalid (the schema or this check reported it). */
function readSize(reporter: Reporter, value: unknown, path: ReadonlyArray<string | number>): number | undefined {
  if (value === undefined) return undefined;
  const valid = (typeof value === 'number' && Number.isInteger(value) && value >= 1) ||
    (typeof value === 'string' && SIZE_SYNTAX.test(value));
  if (!valid) return undefined;
  try {
    return parseSize(value as string | number, path.join('.'));
  } catch (error) {
    reporter.report('SPEC_UNIT', path, (error as Error).message.replace(/^[^:]*: /, ''));
    return undefined;
  }
}

function checkMonitoring(reporter: Reporter, written: Json | undefined, monitoring: Json | undefined): void {
  if (!monitoring) return;
  const at = (key: string): string[] => ['monitoring', key];
  const heartbeat = readDuration(reporter, monitoring.heartbeatInterval, at('heartbeatInterval'));
  const degraded = readDuration(reporter, monitoring.degradedAfter, at('degradedAfter'));
  const offline = readDuration(reporter, monitoring.offlineAfter, at('offlineAfter'));
  readDuration(reporter, monitoring.replaceAfter, at('replaceAfter'));
  const restart = obj(monitoring.restart);
  const window = readDuration(reporter, restart?.window, ['monitoring', 'restart', 'window']);
  readDuration(reporter, restart?.backoff, ['monitoring', 'restart', 'backoff']);
  // Blame the value the user wrote; a default is not theirs to find.
  const blame = (later: string, earlier: string): string[] =>
    written?.[later] !== undefined || written?.[earlier] === undefined ? at(later) : at(earlier);

  if (heartbeat === 0) reporter.report('SPEC_MONITORING', at('heartbeatInterval'), 'must be greater than 0');
  if (heartbeat !== undefined && degraded !== undefined && heartbeat > 0 && degraded <= heartbeat) {
    reporter.report('SPEC_MONITORING', blame('degradedAfter', 'heartbeatInterval'),
      `degradedAfter (${String(monitoring.degradedAfter)}) must be longer than heartbeatInterval (${String(monitoring.heartbeatInterval)}), or each heartbeat arrives late`);
  }
  if (degraded !== undefined && offline !== undefined && degraded >= offline) {
    reporter.report('SPEC_MONITORING', blame('offlineAfter', 'degradedAfter'),
      `degradedAfter (${String(monitoring.degradedAfter)}) must be shorter than offlineAfter (${String(monitoring.offlineAfter)})`);
  }
  if (window === 0 && (int(restart?.maxRestarts) ?? 0) > 0) {
    reporter.report('SPEC_MONITORING', ['monitoring', 'restart', 'window'], 'must be greater than 0 when maxRestarts is above 0');
  }
}

/** Reports repeated ids and returns each id's first index. */
function firstIndexById(reporter: Reporter, items: ReadonlyArray<Json | undefined>, key: string, list: string, what: string): Map<string, number> {
  const first = new Map<string, number>();
  items.forEach((item, index) => {
    const id = str(item?.[key]);
    if (id === undefined) return;
    const earlier = first.get(id);
    if (earlier === undefined) first.set(id, index);
    else reporter.report('SPEC_DUPLICATE_ID', [list, index, key], `duplicate ${what} "${id}" (first declared at ${list}[${earlier}])`);
  });
  return first;
}

function checkPlacementAndCapacity(
  reporter: Reporter,
  agents: ReadonlyArray<Json | undefined>,
  clusters: ReadonlyArray<Json | undefined>,
  agentIndex: ReadonlyMap<string, number>,
  storageMemory: number | undefined,
): void {
  const capacity: CapacityAgent[] = agents.map((agent, i) => {
    const declared = obj(agent?.capacity);
    const memory = readSize(reporter, declared?.memory, ['agents', i, 'capacity', 'memory']);
    return { nodes: count(declared?.nodes, SPEC_LIMITS.maxAgentCapacityNodes) ?? 0, memoryMb: memory ?? 0 };
  });
  const labelsOf = agents.map((agent) => obj(agent?.labels) ?? {});
  const idOf = (a: number): string => str(agents[a]?.id) ?? `agents[${a}]`;
  const demands: CapacityDemand[] = [];
  const demandCluster: number[] = [];
  // Many clusters share a placement; computing each distinct one once keeps large grids fast.
  const everyAgent = agents.map((_, a) => a).filter((a) => agentIndex.get(idOf(a)) === a);
  const eligibleByPlacement = new Map<string, readonly number[]>();
  // Agents by label, built on first use: the agents (in order) that have `key: value`.
  let byLabel: Map<string, number[]> | undefined;
  const rarest = (selector: ReadonlyArray<[string, unknown]>): readonly number[] => {
    if (!byLabel) {
      byLabel = new Map();
      for (const a of everyAgent) {
        for (const [k, v] of Object.entries(labelsOf[a] ?? {})) {
          const key = `${k}\u0000${String(v)}`;
          const list = byLabel.get(key);
          if (list) list.push(a);
          else byLabel.set(key, [a]);
        }
      }
    }
    let best: readonly number[] | undefined;
    for (const [k, v] of selector) {
      const list = byLabel.get(`${k}\u0000${String(v)}`) ?? [];
      if (!best || list.length < best.length) best = list;
    }
    return best ?? everyAgent;
  };

  clusters.forEach((cluster, c) => {
    if (!cluster) return;
    const name = str(cluster.name) ?? `clusters[${c}]`;
    const placement = obj(cluster.placement);
    const memory = cluster.memory === undefined ? storageMemory : readSize(reporter, cluster.memory, ['clusters', c, 'memory']);
    let candidates = everyAgent;
    const pins = arr(placement?.agents);
    if (pins.length > 0) {
      const pinned: number[] = [];
      const seen = new Set<number>();
      pins.forEach((pin, k) => {
        const id = str(pin);
        if (id === undefined) return;
        const a = agentIndex.get(id);
        if (a === undefined) {
          reporter.report('SPEC_UNKNOWN_AGENT', ['clusters', c, 'placement', 'agents', k],
            `cluster "${name}" is pinned to agent "${id}", which is not declared${closest(id, [...agentIndex.keys()])}`);
        } else if (!seen.has(a)) {
          seen.add(a);
          pinned.push(a);
        }
      });
      if (pinned.length === 0) return; // every pin reported above
      candidates = pinned;
    }
    const selector = Object.entries(obj(placement?.selector) ?? {}).filter(([, v]) => typeof v === 'string');
    const placementKey = `${pins.length > 0 ? candidates.join(',') : '*'}|${JSON.stringify(selector)}`;
    const matches = (a: number): boolean => selector.every(([k, v]) => labelsOf[a]?.[k] === v);
    // Without pins, start from the agents carrying the selector's rarest label, not from them all.
    const eligible = eligibleByPlacement.get(placementKey) ??
      (pins.length > 0 || selector.length === 0 ? candidates.filter(matches) : rarest(selector).filter(matches));
    eligibleByPlacement.set(placementKey, eligible);
    if (eligible.length === 0) {
      const wanted = selector.map(([k, v]) => `${k}=${String(v)}`).join(', ');
      const among = pins.length > 0 ? `none of the pinned agents (${candidates.map(idOf).join(', ')})` : 'no declared agent';
      reporter.report('SPEC_SELECTOR_NO_MATCH', ['clusters', c, 'placement', 'selector'], `cluster "${name}": ${among} has labels ${wanted}`);
      return;
    }
    const nodes = count(cluster.nodes, SPEC_LIMITS.maxNodesPerCluster);
    if (nodes === undefined || nodes < 1 || memory === undefined) return; // schema, unit or total check reported it
    if (cluster.topology === 'leader-replicas' && nodes > 1) {
      const hosts = firstHosts(eligible, (a) => agentFit(capacity[a] ?? { nodes: 0, memoryMb: 0 }, { memoryMb: memory }) > 0);
      if (hosts.length === 1) {
        reporter.report('SPEC_TOPOLOGY', ['clusters', c, 'nodes'],
          `cluster "${name}": leader and replicas can only go on agent ${idOf(hosts[0] ?? 0)}; losing it loses the whole cluster`, 'warning');
      }
    }
    demands.push({ nodes, memoryMb: memory, eligible });
    demandCluster.push(c);
  });

  for (const shortfall of findCapacityShortfalls(capacity, demands)) {
    const members = shortfall.demands.map((d) => demandCluster[d] ?? 0);
    const names = members.map((c) => `"${str(clusters[c]?.name) ?? `clusters[${c}]`}"`);
    const last = members[members.length - 1] ?? 0;
    if (shortfall.kind === 'memory') {
      reporter.report('SPEC_CAPACITY', ['clusters'],
        `clusters need ${formatSize(shortfall.need)} of memory in total but the agents they may use offer ${formatSize(shortfall.canHold)}`);
    } else if (members.length === 1) {
      const demand = demands[shortfall.demands[0] ?? 0];
      const detail = shortfall.agents.slice(0, 6).map((a) => {
        const agent = capacity[a] ?? { nodes: 0, memoryMb: 0 };
        const fit = demand ? agentFit(agent, demand) : 0;
        const byMemory = fit < agent.nodes ? ` (memory ${formatSize(agent.memoryMb)})` : '';
        return `${idOf(a)}: ${fit}${byMemory}`;
      });
      if (shortfall.agents.length > 6) detail.push(`and ${shortfall.agents.length - 6} more`);
      reporter.report('SPEC_CAPACITY', ['clusters', last, 'nodes'],
        `cluster ${names[0] ?? ''} needs ${shortfall.need} nodes${demand ? ` of ${formatSize(demand.memoryMb)}` : ''} but the agents it may use can hold at most ${shortfall.canHold} (${detail.join(', ')})`);
    } else {
      const agentList = shortfall.agents.slice(0, 6).map(idOf).join(', ') + (shortfall.agents.length > 6 ? ', ...' : '');
      reporter.report('SPEC_CAPACITY', ['clusters', last, 'nodes'],
        `clusters ${names.join(', ')} need ${shortfall.need} nodes together but the agents they may use (${agentList}) can hold at most ${shortfall.canHold}`);
    }
  }
}

/** A replication block only means something on leader-replicas, and a quorum must be reachable. */
function checkReplication(reporter: Reporter, cluster: Json | undefined, c: number): void {
  const replication = obj(cluster?.replication);
  if (!replication) return;
  const name = str(cluster?.name) ?? `clusters[${c}]`;
  if (cluster?.topology !== 'leader-replicas') {
    reporter.report('SPEC_TOPOLOGY', ['clusters', c, 'replication'], `cluster "${name}": replication applies to topology leader-replicas only`);
    return;
  }
  const nodes = count(cluster.nodes, SPEC_LIMITS.maxNodesPerCluster);
  const durability = replication.durability ?? (nodes !== undefined && nodes > 1 ? 'sync' : 'async');
  const quorum = int(replication.syncQuorum) ?? 1;
  if (durability === 'sync' && nodes !== undefined && quorum > nodes - 1) {
    // syncQuorum is defaulted to 1: past it, the user wrote the quorum; at it, they asked for sync.
    const field = quorum === 1 ? 'durability' : 'syncQuorum';
    reporter.report('SPEC_TOPOLOGY', ['clusters', c, 'replication', field],
      `cluster "${name}": a sync write waits for ${quorum} replica(s) but the cluster has ${nodes - 1}; every write would fail (add nodes, lower syncQuorum or choose async)`);
  }
  if (replication.syncTimeout !== undefined) readDuration(reporter, replication.syncTimeout, ['clusters', c, 'replication', 'syncTimeout']);
}

/** Up to two agents that can host a node: enough to tell "one" from "several" without a full scan. */
/**
 * A step must be healthy for minHealthyTime before its healthyDeadline, so the deadline must be
 * longer, or every rollout would fail at its first step.
 */
function checkUpdatePolicy(reporter: Reporter, cluster: Json | undefined, c: number): void {
  const update = obj(cluster?.update);
  if (!update) return;
  const path = ['clusters', c, 'update'];
  const minHealthy = readDuration(reporter, update.minHealthyTime, [...path, 'minHealthyTime']);
  const deadline = readDuration(reporter, update.healthyDeadline, [...path, 'healthyDeadline']);
  if (minHealthy !== undefined && deadline !== undefined && deadline <= minHealthy) {
    reporter.report('SPEC_UNIT', [...path, 'healthyDeadline'],
      `cluster "${str(cluster?.name) ?? `clusters[${c}]`}": healthyDeadline (${String(update.healthyDeadline)}) must be longer than minHealthyTime (${String(update.minHealthyTime)}): every rollout would fail at its first step`);
  }
}

function firstHosts(eligible: readonly number[], canHost: (a: number) => boolean): number[] {
  const found: number[] = [];
  for (const a of eligible) {
    if (canHost(a)) found.push(a);
    if (found.length === 2) break;
  }
  return found;
}

function closest(id: string, known: readonly string[]): string {
  const near = known.find((k) => k.toLowerCase() === id.toLowerCase() || k.replace(/[-_]/g, '') === id.replace(/[-_]/g, ''));
  return near ? ` (did you mean "${near}"?)` : known.length > 0 ? ` (declared: ${known.slice(0, 8).join(', ')})` : '';
}
