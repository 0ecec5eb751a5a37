/**
 * What each reconcile action does to the grid: the agent calls of a create, destroy, promotion or
 * replace, in the order that keeps a cluster serving. A replace with `surge` starts the new copy
 * first and stops the old one only once the new one counts as running (a replica: caught up with
 * its leader), so a moved node never goes down and its data is on the new copy before the old
 * one goes.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { PlanAction } from '../../../plan/index.js';
import type { Logger } from '../../common/logger.js';
import { RuntimeError } from '../../errors.js';
import type { DesiredState, ReconcilerEvents, ReconcilerHost } from './reconciler-host.js';

/** Attempts at stopping a copy before its replacement is given up for this pass. */
const STOP_ATTEMPTS = 3;
/** How often a surging move looks whether its new copy runs yet. */
const READY_POLL_MS = 200;

/** What a pass knows about the agents it acts on. */
export interface PassContext {
  readonly desired: DesiredState;
  /** Agents the master can call now (registered and not offline). */
  readonly reachable: ReadonlySet<string>;
  readonly signal: AbortSignal | undefined;
}

/** Runs one action at a time for the reconciler; bookkeeping (in flight, backoff) stays there. */
export class ActionRunner {
  constructor(
    private readonly host: ReconcilerHost,
    private readonly events: ReconcilerEvents,
    private readonly logger: Logger,
    /** Where this master last put each node: decides which copy survives when two exist. */
    private readonly assignments: Record<string, string>,
    private readonly now: () => number,
  ) {}

  /** Carries out `a`; rejects when it could not (the reconciler backs the node off). */
  async run(a: PlanAction, ctx: PassContext): Promise<void> {
    const { desired } = ctx;
    switch (a.op) {
      case 'create':
        await this.host.spawn(a.agentId, { nodeId: a.nodeId, memoryMb: a.memoryMb, cluster: a.cluster, role: a.role, generation: desired.generation });
        this.assignments[a.nodeId] = a.agentId;
        return;
      case 'destroy':
        await this.stopUntilGone(a.agentId, a.nodeId);
        if (this.assignments[a.nodeId] === a.agentId) delete this.assignments[a.nodeId];
        return;
      case 'update': {
        if (a.role !== 'leader') return;
        const previous = desired.leaders[a.cluster] ?? '';
        await this.host.setLeader(a.cluster, a.nodeId);
        const term = this.host.desired()?.terms?.[a.cluster];
        this.events.leaderChanged?.({ cluster: a.cluster, nodeId: a.nodeId, previous, reason: a.reason, ...(term !== undefined ? { term } : {}) });
        return;
      }
      case 'replace':
        await this.replace(a, ctx);
        this.events.nodeReplaced?.({ cluster: a.cluster, nodeId: a.nodeId, fromAgentId: a.fromAgentId ?? '', toAgentId: a.agentId, reason: a.reason });
        return;
    }
  }

  private async replace(a: PlanAction, ctx: PassContext): Promise<void> {
    const { desired } = ctx;
    // A leader's restart or move hands its leadership over first (a retry after the handover
    // succeeded finds the heir leading already and goes on).
    if (a.handoverTo !== undefined && desired.leaders[a.cluster] !== a.handoverTo) await this.host.handOver?.(a.cluster, a.handoverTo);
    const spawn = (): Promise<void> => this.host.spawn(a.agentId, { nodeId: a.nodeId, memoryMb: a.memoryMb, cluster: a.cluster, role: a.role, generation: desired.generation });
    const from = a.fromAgentId;
    if (a.surge === true && from !== undefined && from !== a.agentId && ctx.reachable.has(from)) {
      await spawn();
      await this.untilRunning(a, ctx);
      this.assignments[a.nodeId] = a.agentId;
      await this.stopUntilGone(from, a.nodeId);
      return;
    }
    // An offline agent is not asked: its copy is removed by the plan when the agent returns, and
    // waiting for its calls to time out would delay the replacement. A reachable one must have
    // stopped the old copy before the new one is spawned (on the same agent the spawn would
    // collide with a copy still stopping).
    if (from !== undefined && ctx.reachable.has(from)) await this.stopUntilGone(from, a.nodeId);
    this.assignments[a.nodeId] = a.agentId;
    await spawn();
  }

  /**
   * Waits until the new copy of a surging move counts as running (a replica: caught up, in the
   * cluster's term), within the cluster's healthyDeadline. Past it the new copy is stopped again
   * (the old one never stopped) and the move fails, to be retried after a backoff.
   */
  private async untilRunning(a: PlanAction, ctx: PassContext): Promise<void> {
    const cluster = ctx.desired.spec.clusters.find((c) => c.name === a.cluster);
    const deadline = this.now() + (cluster?.update.healthyDeadlineMs ?? 300_000);
    for (;;) {
      const copy = this.host.live().nodes.find((n) => n.nodeId === a.nodeId && n.agentId === a.agentId);
      if (copy?.status === 'running') return;
      const gone = copy === undefined || copy.status === 'failed' || copy.status === 'stopped';
      if (gone || this.now() >= deadline || ctx.signal?.aborted === true) {
        const why = gone ? `its new copy on ${a.agentId} is ${copy?.status ?? 'gone'}` : ctx.signal?.aborted === true ? 'the master is stopping' : `its new copy on ${a.agentId} did not catch up in time`;
        this.logger.warn({ nodeId: a.nodeId, agentId: a.agentId, fromAgentId: a.fromAgentId }, `move of ${a.nodeId}: ${why}; the copy on ${a.fromAgentId ?? '?'} stays`);
        if (copy !== undefined && !gone) await this.stopUntilGone(a.agentId, a.nodeId).catch(() => undefined);
        throw new RuntimeError('MOVE_NOT_READY', `move of ${a.nodeId} to ${a.agentId}: ${why}`, { nodeId: a.nodeId, agentId: a.agentId });
      }
      await new Promise((r) => setTimeout(r, READY_POLL_MS));
    }
  }

  /**
   * Stops a copy and resolves once it is gone: a copy its agent (or the master) no longer knows
   * is gone already; a stop that did not answer in time is asked again (the agent's stop is
   * idempotent: the second ask waits for the same stop) before anything is spawned in its place.
   */
  async stopUntilGone(agentId: string, nodeId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.host.stop(agentId, nodeId);
        return;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code === 'NODE_NOT_FOUND' || code === GrpcStatus.NOT_FOUND) return;
        const again = code === GrpcStatus.DEADLINE_EXCEEDED || code === GrpcStatus.UNAVAILABLE;
        if (!again || attempt >= STOP_ATTEMPTS) throw err;
        this.logger.warn({ nodeId, agentId, attempt }, `stop of ${nodeId} on ${agentId} not confirmed; asking again before replacing it`);
      }
    }
  }
}
