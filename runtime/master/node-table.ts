import type { NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';

/** Filters of {@link NodeTable.list}; empty strings mean "any". */
export interface NodeFilter {
  readonly agentId?: string;
  readonly cluster?: string;
}

interface Entry {
  node: NodeInfo;
  /** Until then a heartbeat that omits the node does not drop it (see {@link NodeTable.replaceForAgent}). */
  pinnedUntilMs: number;
}

/** Statuses that no longer hold a slot on their agent. */
const INACTIVE = new Set(['stopped', 'failed']);

/**
 * The master's cached view of every node, learned from registrations, heartbeats and the results
 * of spawn/stop calls. The agent is the source of truth; this is what the master last heard.
 */
export class NodeTable {
  private readonly nodes = new Map<string, Entry>();
  private readonly byAgent = new Map<string, Set<string>>();

  /** The cached node, or undefined. */
  get(nodeId: string): NodeInfo | undefined {
    return this.nodes.get(nodeId)?.node;
  }

  /**
   * Records one node (e.g. the result of a spawn). `pinForMs` protects it from a heartbeat that was
   * assembled by the agent before the spawn finished and arrives after it.
   */
  upsert(node: NodeInfo, nowMs: number, pinForMs = 0): void {
    const previous = this.nodes.get(node.nodeId);
    if (previous !== undefined && previous.node.agentId !== node.agentId) this.unindex(previous.node);
    this.nodes.set(node.nodeId, { node, pinnedUntilMs: pinForMs > 0 ? nowMs + pinForMs : (previous?.pinnedUntilMs ?? 0) });
    this.index(node);
  }

  /** Replaces everything known about one agent's nodes with its own report. */
  replaceForAgent(agentId: string, reported: readonly NodeInfo[], nowMs: number): void {
    const seen = new Set<string>();
    for (const raw of reported) {
      const node = raw.agentId === agentId ? raw : { ...raw, agentId };
      seen.add(node.nodeId);
      const previous = this.nodes.get(node.nodeId);
      if (previous !== undefined && previous.node.agentId !== agentId) this.unindex(previous.node);
      this.nodes.set(node.nodeId, { node, pinnedUntilMs: previous?.pinnedUntilMs ?? 0 });
      this.index(node);
    }
    const ids = this.byAgent.get(agentId);
    if (ids === undefined) return;
    for (const id of [...ids]) {
      if (seen.has(id)) continue;
      const entry = this.nodes.get(id);
      if (entry !== undefined && entry.pinnedUntilMs > nowMs) continue;
      this.remove(id);
    }
  }

  /** Forgets one node. */
  remove(nodeId: string): void {
    const entry = this.nodes.get(nodeId);
    if (entry === undefined) return;
    this.nodes.delete(nodeId);
    this.unindex(entry.node);
  }

  /** Forgets every node of an agent (after it unregistered). */
  removeAgent(agentId: string): void {
    for (const id of [...(this.byAgent.get(agentId) ?? [])]) this.remove(id);
    this.byAgent.delete(agentId);
  }

  /** Nodes matching the filter, ordered by agent then node id so output is stable. */
  list(filter: NodeFilter = {}): NodeInfo[] {
    let nodes: NodeInfo[];
    if (filter.agentId) {
      nodes = [...(this.byAgent.get(filter.agentId) ?? [])].map((id) => this.nodes.get(id)!.node);
    } else {
      nodes = [...this.nodes.values()].map((e) => e.node);
    }
    if (filter.cluster) nodes = nodes.filter((n) => n.cluster === filter.cluster);
    return nodes.sort((a, b) => a.agentId.localeCompare(b.agentId) || a.nodeId.localeCompare(b.nodeId));
  }

  /** How many of the agent's nodes still hold a slot (neither stopped nor failed). */
  activeCount(agentId: string): number {
    let n = 0;
    for (const id of this.byAgent.get(agentId) ?? []) {
      const status = this.nodes.get(id)?.node.status ?? 'stopped';
      if (!INACTIVE.has(status)) n++;
    }
    return n;
  }

  /** Number of nodes the agent reported, whatever their status. */
  countForAgent(agentId: string): number {
    return this.byAgent.get(agentId)?.size ?? 0;
  }

  private index(node: NodeInfo): void {
    let ids = this.byAgent.get(node.agentId);
    if (ids === undefined) {
      ids = new Set();
      this.byAgent.set(node.agentId, ids);
    }
    ids.add(node.nodeId);
  }

  private unindex(node: NodeInfo): void {
    const ids = this.byAgent.get(node.agentId);
    ids?.delete(node.nodeId);
    if (ids?.size === 0) this.byAgent.delete(node.agentId);
  }
}
