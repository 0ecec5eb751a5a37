/**
 * `sutra-grid restart NODE`: one node stopped and started again in place, through its agent, with
 * the same id (so the same data directory) and the same role settings: it keeps its data.
 *
 * The leader of a leader-replicas cluster with a caught-up replica hands over first (a planned
 * promote, so no acknowledged write is lost and writes pause only for the handover), then
 * restarts and comes back as a replica of the new leader. A leader with no such replica restarts
 * as it is: its cluster takes no writes until it runs again.
 */
import type { Logger } from '../../common/logger.js';
import type { NodeView } from '../../common/grid-types.js';
import { RuntimeError } from '../../errors.js';
import type { AgentRegistry } from '../agent-registry.js';
import type { NodeOperations } from '../node-operations.js';
import type { PlannedHandover } from './planned-handover.js';
import type { DesiredState, Reconciler } from './reconciler.js';
import { latest, type ReplicationControl } from './replication-control.js';

/** What a restart needs from the master. */
export interface NodeRestartDeps {
  readonly registry: AgentRegistry;
  readonly ops: NodeOperations;
  readonly control: ReplicationControl;
  readonly handover: PlannedHandover;
  readonly reconciler: Reconciler;
  readonly desired: () => DesiredState | undefined;
  readonly logger: Logger;
  /** Told once the node runs again. */
  readonly restarted?: (e: { node: NodeView; handedOverTo: string }) => void;
}

/** A completed restart. */
export interface RestartResult {
  readonly node: NodeView;
  /** The node that leads instead, when the restarted node led and handed over first; else ''. */
  readonly handedOverTo: string;
}

/** Restarts nodes in place. */
export class NodeRestart {
  constructor(private readonly deps: NodeRestartDeps) {}

  /**
   * Restarts `nodeId` on its agent.
   * @throws RuntimeError NODE_NOT_FOUND for a node the master does not know; AGENT_NOT_HEALTHY when
   * its agent cannot be asked; the handover's refusal when a leader could not hand over; or the
   * agent's own error of the stop or the spawn.
   */
  async restart(nodeId: string): Promise<RestartResult> {
    const copies = this.deps.registry.nodes.list().filter((n) => n.nodeId === nodeId);
    const n = latest(copies.filter((x) => x.status !== 'stopped')) ?? latest(copies);
    if (n === undefined) throw new RuntimeError('NODE_NOT_FOUND', `node "${nodeId}" not found`, { nodeId });
    const agent = this.deps.registry.get(n.agentId);
    if (agent === undefined || agent.health === 'offline') {
      throw new RuntimeError('AGENT_NOT_HEALTHY', `node ${nodeId} is on agent "${n.agentId}", which is ${agent?.health ?? 'not registered'}: it cannot restart it`, { nodeId, agentId: n.agentId });
    }
    const handedOverTo = await this.handOverFirst(n);
    const role = this.roleOf(n);
    const d = this.deps.desired();
    const declared = n.cluster !== '' && d?.spec.clusters.some((c) => c.name === n.cluster) === true;
    this.deps.logger.info({ nodeId, agentId: n.agentId, role }, `restarting ${nodeId} on agent ${n.agentId}`);
    const hold = { op: 'update' as const, cluster: n.cluster, nodeId, agentId: n.agentId, role: role as 'leader' | 'replica' | 'standalone' | '', memoryMb: n.memoryMb, reason: 'restarted by an operator' };
    const node = await this.deps.reconciler.holding(hold, async () => {
      await this.deps.ops.stop(nodeId, 0, n.agentId);
      if (!declared) {
        // A node spawned by hand: its port and data directory as they were.
        return this.deps.ops.spawn({ agentId: n.agentId, nodeId, port: n.port, memoryMb: n.memoryMb, storagePath: n.storagePath });
      }
      // A declared node: as the reconciler spawns it (the agent's default data directory for the id).
      const replication = await this.deps.control.spawnFields(n.cluster, nodeId, role);
      return this.deps.ops.spawn({ agentId: n.agentId, nodeId, memoryMb: n.memoryMb, cluster: n.cluster, role, generation: n.generation, replacing: true, ...replication });
    });
    this.deps.logger.info({ nodeId, agentId: n.agentId, pid: node.pid }, `${nodeId} restarted on agent ${n.agentId} (pid ${node.pid})`);
    this.deps.restarted?.({ node, handedOverTo });
    return { node, handedOverTo };
  }

  /** The role a declared node restarts in: as the master records it for leader-replicas clusters. */
  private roleOf(n: NodeView): string {
    const d = this.deps.desired();
    const c = d?.spec.clusters.find((x) => x.name === n.cluster);
    if (d === undefined || c === undefined || c.topology !== 'leader-replicas' || d.leaders[c.name] === undefined) return n.role;
    return d.leaders[c.name] === n.nodeId ? 'leader' : 'replica';
  }

  /**
   * When `n` leads a leader-replicas cluster with a running, caught-up replica: hands over to the
   * one holding the most first. @returns the new leader, or '' when nothing was handed over
   */
  private async handOverFirst(n: NodeView): Promise<string> {
    const d = this.deps.desired();
    const c = d?.spec.clusters.find((x) => x.name === n.cluster);
    if (d === undefined || c === undefined || c.topology !== 'leader-replicas' || d.leaders[c.name] !== n.nodeId) return '';
    const candidate = this.deps.registry.nodes
      .list({ cluster: c.name })
      .filter((x) => x.nodeId !== n.nodeId && x.status === 'running' && x.replication?.role === 'replica' && !x.replication.catchingUp)
      .sort((a, b) => (b.replication?.logPosition ?? 0) - (a.replication?.logPosition ?? 0))[0];
    if (candidate === undefined) {
      this.deps.logger.warn({ cluster: c.name, nodeId: n.nodeId }, `cluster ${c.name}: no caught-up replica to hand over to; restarting its leader ${n.nodeId} as it is`);
      return '';
    }
    await this.deps.handover.promote(candidate.nodeId);
    return candidate.nodeId;
  }
}
