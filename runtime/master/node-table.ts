import type { NodeStatus, NodeView } from '../common/grid-types.js';

/** Filters of {@link NodeTable.list}; empty strings mean "any". */
export interface NodeFilter {
  readonly agentId?: string;
  readonly cluster?: string;
}

interface Entry {
  node: NodeView;
  /**
   * Until then a heartbeat that omits the node does not drop it (a spawn's answer), or one that
   * lists it does not change it (a stop's answer): see {@link NodeTable.replaceForAgent}.
   */
  pinnedUntilMs: number;
}

/** Statuses that no longer hold a slot on their agent. */
const INACTIVE: ReadonlySet<NodeStatus> = new Set<NodeStatus>(['stopped', 'failed']);

const key = (agentId: string, nodeId: string): string => `${agentId}\u0000${nodeId}`;

/** Distinct values {@link share} keeps at most: statuses, roles, cluster names and exits are few. */
const MAX_SHARED = 4096;
const sharedStrings = new Map<string, string>();

/**
 * One copy of a value many nodes repeat: each report is decoded into fresh strings, and a stored
 * view would otherwise keep its own copy of "running", "replica" and its cluster's name.
 */
function share(value: string): string {
  const known = sharedStrings.get(value);
  if (known !== undefined) return known;
  if (sharedStrings.size < MAX_SHARED) sharedStrings.set(value, value);
  return value;
}

/**
 * The view as the table stores it: one object literal of the view's own fields (the decoded
 * report's spread copy keeps half of them in a separate property array), with shared strings and
 * the agent id the table was given. ~200 B less per node: 4 MB at 10,000 agents of two nodes (issue 17).
 */
function stored(n: NodeView, agentId: string): NodeView {
  const node: NodeView = {
    nodeId: n.nodeId,
    agentId,
    port: n.port,
    pid: n.pid,
    status: share(n.status) as NodeView['status'],
    storagePath: n.storagePath,
    memoryMb: n.memoryMb,
    restarts: n.restarts,
    startedAtMs: n.startedAtMs,
    cluster: share(n.cluster),
    role: share(n.role),
    lastExit: share(n.lastExit),
    containerId: share(n.containerId),
    generation: n.generation,
  };
  return n.replication === undefined ? node : { ...node, replication: n.replication };
}

/**
 * The master's cached view of every node, learned from registrations, heartbeats and the results
 * of spawn/stop calls. The agent is the source of truth; this is what the master last heard.
 *
 * Entries are keyed by agent AND node id: after an agent that was offline returns, the same node
 * may briefly exist twice (its old copy and the replacement elsewhere). Both are real processes,
 * so both are kept until the reconciler removes the stale one.
 */
export class NodeTable {
  private readonly entries = new Map<string, Entry>();
  private readonly byAgent = new Map<string, Set<string>>();
  /**
   * The agents holding a copy of each node: one agent id, or a Set while a node has copies on
   * several agents (rare: an agent back from offline). A Set per node was ~130 B of the master's
   * heap per node, 2.6 MB at 10,000 agents with two nodes each (issue 17).
   */
  private readonly byNode = new Map<string, string | Set<string>>();

  /** The agents holding a copy of `nodeId`, as an array (callers change the table while they iterate). */
  private agentsOf(nodeId: string): string[] {
    const held = this.byNode.get(nodeId);
    return held === undefined ? [] : typeof held === 'string' ? [held] : [...held];
  }

  /**
   * The node's copy on `agentId`, or without an agent the copy that counts: an active one (the
   * most recently started) before a stopped or failed one.
   */
  get(nodeId: string, agentId?: string): NodeView | undefined {
    if (agentId !== undefined) return this.entries.get(key(agentId, nodeId))?.node;
    let best: NodeView | undefined;
    for (const a of this.agentsOf(nodeId)) {
      const n = this.entries.get(key(a, nodeId))?.node;
      if (n === undefined) continue;
      if (best === undefined || preferred(n, best)) best = n;
    }
    return best;
  }

  /** Every copy of a node, one per agent that reports it. */
  copies(nodeId: string): NodeView[] {
    return this.agentsOf(nodeId).map((a) => this.entries.get(key(a, nodeId))!.node);
  }

  /**
   * Records one node (e.g. the result of a spawn or a stop). `pinForMs` protects it from a
   * heartbeat that was assembled by the agent before the spawn or stop finished and arrives after it.
   */
  upsert(node: NodeView, nowMs: number, pinForMs = 0): void {
    const k = key(node.agentId, node.nodeId);
    const previous = this.entries.get(k);
    this.entries.set(k, { node: stored(node, node.agentId), pinnedUntilMs: pinForMs > 0 ? nowMs + pinForMs : (previous?.pinnedUntilMs ?? 0) });
    this.index(node.agentId, node.nodeId);
  }

  /** Replaces everything known about one agent's nodes with its own report. */
  replaceForAgent(agentId: string, reported: readonly NodeView[], nowMs: number): void {
    const seen = new Set<string>();
    for (const raw of reported) {
      const node = raw.agentId === agentId ? raw : { ...raw, agentId };
      seen.add(node.nodeId);
      const k = key(agentId, node.nodeId);
      const previous = this.entries.get(k);
      // A stop's answer is final for that process: a beat the agent assembled before the stop
      // ended, and that arrives after its answer, does not bring the node back (the next beat
      // drops it). Only a pinned answer (NodeOperations.stop), so a later report still wins.
      if (previous !== undefined && previous.pinnedUntilMs > nowMs && previous.node.status === 'stopped' && node.status !== 'stopped') continue;
      // Most beats repeat the last report: keeping the stored objects lets the new copies die young
      // instead of every beat promoting a fresh set to the old generation (10,000 agents, 2,000 beats/s).
      if (previous !== undefined && sameView(previous.node, node)) continue;
      this.entries.set(k, { node: stored(node, agentId), pinnedUntilMs: previous?.pinnedUntilMs ?? 0 });
      this.index(agentId, node.nodeId);
    }
    for (const id of [...(this.byAgent.get(agentId) ?? [])]) {
      if (seen.has(id)) continue;
      const entry = this.entries.get(key(agentId, id));
      // A pin keeps a spawned node a beat assembled before the spawn ended leaves out; a stopped
      // node's pin only keeps it from coming back, and the first beat without it drops it.
      if (entry !== undefined && entry.pinnedUntilMs > nowMs && entry.node.status !== 'stopped') continue;
      this.remove(id, agentId);
    }
  }

  /** Forgets one copy of a node (`agentId` given) or all of its copies. */
  remove(nodeId: string, agentId?: string): void {
    const agents = agentId !== undefined ? [agentId] : this.agentsOf(nodeId);
    for (const a of agents) {
      if (!this.entries.delete(key(a, nodeId))) continue;
      this.byAgent.get(a)?.delete(nodeId);
      if (this.byAgent.get(a)?.size === 0) this.byAgent.delete(a);
      const held = this.byNode.get(nodeId);
      if (held === a) this.byNode.delete(nodeId);
      else if (typeof held === 'object') {
        held.delete(a);
        if (held.size === 1) this.byNode.set(nodeId, held.values().next().value!);
      }
    }
  }

  /** Forgets every node of an agent (after it unregistered). */
  removeAgent(agentId: string): void {
    for (const id of [...(this.byAgent.get(agentId) ?? [])]) this.remove(id, agentId);
    this.byAgent.delete(agentId);
  }

  /** Calls `visit` with every node, in no particular order: for counting, where list() would copy and sort. */
  each(visit: (node: NodeView) => void): void {
    for (const e of this.entries.values()) visit(e.node);
  }

  /** Nodes matching the filter, ordered by agent then node id so output is stable. */
  list(filter: NodeFilter = {}): NodeView[] {
    let nodes: NodeView[];
    if (filter.agentId) {
      const agentId = filter.agentId;
      nodes = [...(this.byAgent.get(agentId) ?? [])].map((id) => this.entries.get(key(agentId, id))!.node);
    } else {
      nodes = [...this.entries.values()].map((e) => e.node);
    }
    if (filter.cluster) nodes = nodes.filter((n) => n.cluster === filter.cluster);
    return nodes.sort((a, b) => a.agentId.localeCompare(b.agentId) || a.nodeId.localeCompare(b.nodeId));
  }

  /** How many of the agent's nodes still hold a slot (neither stopped nor failed). */
  activeCount(agentId: string): number {
    let n = 0;
    for (const id of this.byAgent.get(agentId) ?? []) {
      const status = this.entries.get(key(agentId, id))?.node.status ?? 'stopped';
      if (!INACTIVE.has(status)) n++;
    }
    return n;
  }

  /** Number of nodes the agent reported, whatever their status. */
  countForAgent(agentId: string): number {
    return this.byAgent.get(agentId)?.size ?? 0;
  }

  private index(agentId: string, nodeId: string): void {
    let ids = this.byAgent.get(agentId);
    if (ids === undefined) this.byAgent.set(agentId, (ids = new Set()));
    ids.add(nodeId);
    const held = this.byNode.get(nodeId);
    if (held === undefined) this.byNode.set(nodeId, agentId);
    else if (typeof held === 'string') {
      if (held !== agentId) this.byNode.set(nodeId, new Set([held, agentId]));
    } else held.add(agentId);
  }
}

/** Whether two reports of a node say the same (every field, the replication report's too). */
function sameView(a: NodeView, b: NodeView): boolean {
  return sameFields(a, b) && (a.replication === b.replication || (a.replication !== undefined && b.replication !== undefined && sameFields(a.replication, b.replication)));
}

function sameFields<T extends object>(a: T, b: T): boolean {
  const ka = Object.keys(a) as Array<keyof T>;
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (k === 'replication') continue;
    if (a[k] !== b[k]) return false;
  }
  return true;
}

/** An active copy beats an inactive one; among equals the later start wins. */
function preferred(candidate: NodeView, current: NodeView): boolean {
  const ca = !INACTIVE.has(candidate.status);
  const cu = !INACTIVE.has(current.status);
  if (ca !== cu) return ca;
  return candidate.startedAtMs > current.startedAtMs;
}
