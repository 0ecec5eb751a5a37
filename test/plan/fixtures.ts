/** Builders for plan tests: a small spec, live agents and nodes, and a simulated apply. */
import type { CompiledAgentSpec, CompiledClusterSpec, CompiledGridSpec } from '../../schema/index.js';
import type { LiveAgent, LiveNode, LiveState, Plan } from '../../plan/index.js';

export function agentSpec(id: string, over: Partial<CompiledAgentSpec> = {}): CompiledAgentSpec {
  return { id, platform: 'process', capacity: { nodes: 4, memoryMb: 0 }, labels: {}, ...over };
}

export function clusterSpec(name: string, nodes: number, over: Partial<CompiledClusterSpec> = {}): CompiledClusterSpec {
  return {
    name,
    nodes,
    topology: 'leader-replicas',
    replication: { durability: nodes > 1 ? 'sync' : 'async', syncQuorum: 1, syncTimeoutMs: 5_000 },
    update: { maxUnavailable: 1, maxSurge: 1, minHealthyMs: 10_000, healthyDeadlineMs: 300_000, autoRevert: false },
    memoryMb: 256,
    placement: { strategy: 'spread', agents: [], selector: {} },
    ...over,
  };
}

export function gridSpec(agents: CompiledAgentSpec[], clusters: CompiledClusterSpec[]): CompiledGridSpec {
  return {
    name: 'test',
    master: { address: '127.0.0.1:7000' },
    monitoring: {
      heartbeatIntervalMs: 1000,
      degradedAfterMs: 3000,
      offlineAfterMs: 10_000,
      replaceAfterMs: 60_000,
      restart: { maxRestarts: 3, windowMs: 60_000, backoffMs: 500 },
    },
    storage: { dataPath: '/tmp/grid', memoryMb: 256, portRange: { start: 9000, end: 9099 } },
    agents,
    clusters,
  };
}

/** The live form of every declared agent, healthy, with the spec's capacity and labels. */
export function liveAgentsOf(spec: CompiledGridSpec): LiveAgent[] {
  return spec.agents.map((a) => liveAgent(a.id, { capacity: { ...a.capacity }, labels: { ...a.labels } }));
}

export function liveAgent(id: string, over: Partial<LiveAgent> = {}): LiveAgent {
  return { id, platform: 'process', health: 'healthy', offlineForMs: 0, capacity: { nodes: 0, memoryMb: 0 }, labels: {}, ...over };
}

export function liveNode(nodeId: string, agentId: string, over: Partial<LiveNode> = {}): LiveNode {
  const dash = nodeId.lastIndexOf('-');
  const ordinal = Number(nodeId.slice(dash + 1));
  return {
    nodeId,
    agentId,
    cluster: nodeId.slice(0, dash),
    role: ordinal === 0 ? 'leader' : 'replica',
    status: 'running',
    port: 9000 + ordinal,
    memoryMb: 256,
    restarts: 0,
    generation: 1,
    ...over,
  };
}

/**
 * What the grid looks like after a perfect reconciler ran `plan` (unreachable agents ignore
 * stops, as in reality). Used to check that apply-then-plan reaches "no changes".
 */
export function applyPlan(live: LiveState, plan: Plan): LiveState {
  const reachable = (id: string): boolean => live.agents.find((a) => a.id === id)?.health !== 'offline';
  let nodes = [...live.nodes];
  const drop = (nodeId: string, agentId: string): void => {
    if (reachable(agentId)) nodes = nodes.filter((n) => !(n.nodeId === nodeId && n.agentId === agentId));
  };
  for (const a of plan.actions) {
    if (a.op === 'destroy') drop(a.nodeId, a.agentId);
    if (a.op === 'update') nodes = nodes.map((n) => (n.nodeId === a.nodeId && n.agentId === a.agentId ? { ...n, role: a.role } : n));
    // A leader's restart hands its leadership over first.
    if (a.handoverTo !== undefined) nodes = nodes.map((n) => (n.nodeId === a.handoverTo ? { ...n, role: 'leader' } : n));
    if (a.op === 'replace' && a.fromAgentId) drop(a.nodeId, a.fromAgentId);
    if (a.op === 'create' || a.op === 'replace') {
      nodes.push({
        nodeId: a.nodeId, agentId: a.agentId, cluster: a.cluster, role: a.role, status: 'running', port: 0,
        memoryMb: a.memoryMb, restarts: 0, generation: 1,
      });
    }
  }
  // Then each reachable agent heartbeats: a node it stopped is forgotten, so its stopped record
  // leaves the master's view (the plan has nothing to destroy for it).
  nodes = nodes.filter((n) => n.status !== 'stopped' || !reachable(n.agentId));
  return { agents: live.agents, nodes };
}

/** `op nodeId@agent` lines: compact and readable in assertions. */
export function brief(plan: Plan): string[] {
  return plan.actions.map((a) => `${a.op} ${a.nodeId}@${a.agentId}${a.fromAgentId && a.fromAgentId !== a.agentId ? `<-${a.fromAgentId}` : ''}`);
}
