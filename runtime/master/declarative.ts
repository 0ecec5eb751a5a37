import { clusterStatus, type ClusterHealthState, type ClusterStatus, type LiveState, type Plan } from '../../plan/index.js';
import { RuntimeError } from '../errors.js';
import { checkSpecSize, type GridStatus } from '../../client/index.js';
import type { NodeView } from '../common/grid-types.js';
import type { Logger } from '../common/logger.js';
import type { AgentRegistry } from './agent-registry.js';
import { computeClusterStatus } from './cluster-status.js';
import { CordonControl, type CordonEvents } from './cordons.js';
import type { NodeOperations } from './node-operations.js';
import { compileSpecJson } from './reconcile/compile-spec.js';
import { DesiredStateManager } from './reconcile/desired-state.js';
import { buildLiveState, countedStatus } from './reconcile/live-state.js';
import { Reconciler, type ReconcilerEvents } from './reconcile/reconciler.js';
import { ReplicationControl } from './reconcile/replication-control.js';
import { NodeRestart } from './reconcile/node-restart.js';
import { PlannedHandover } from './reconcile/planned-handover.js';
import type { ReplicationEvents } from './reconcile/replication-watch.js';
import { SpecWorker } from './reconcile/spec-worker.js';
import type { SpecStore } from './spec-store.js';
import type { MasterMetrics } from './master-metrics.js';

export { compileSpecJson, MAX_WIRE_DIAGNOSTICS } from './reconcile/compile-spec.js';

/** What an ApplySpec did: the plan comes encoded (see handlers/encoded-plan.ts). */
export interface ApplyOutcome {
  readonly generation: number;
  readonly changed: boolean;
  readonly encodedPlan: Uint8Array;
}

/** How long a new cluster may take to become healthy before its health is reported as an alarm. */
const NEW_CLUSTER_GRACE_MS = 120_000;

/** Declarative lifecycle facts, for the event bus. */
export interface DeclarativeEvents extends ReconcilerEvents, ReplicationEvents, CordonEvents {
  specApplied?(e: { generation: number; plan: Pick<Plan, 'summary'>; deleted: boolean }): void;
  rolloutReverted?(e: { cluster: string; fromGeneration: number; toGeneration: number; goodGeneration: number; reason: string }): void;
  clusterHealthChanged?(e: { cluster: string; health: ClusterHealthState; previous: ClusterHealthState | undefined; running: number; desired: number }): void;
  /** An operator's restart of a node completed (`handedOverTo`: the new leader when it led). */
  nodeRestarted?(e: { node: NodeView; handedOverTo: string }): void;
}

export interface DeclarativeOptions {
  readonly registry: AgentRegistry;
  readonly ops: NodeOperations;
  readonly store: SpecStore;
  readonly logger: Logger;
  /** The offline threshold in force (the spec's, else the master's flag). */
  readonly offlineAfterMs: () => number;
  /** @see ReconcilerOptions.intervalMs */
  readonly reconcileIntervalMs: number;
  /** @see ReconcilerOptions.settleMs */
  readonly settleMs: number;
  readonly events?: DeclarativeEvents;
  /** Event store health for GetClusterStatus. */
  readonly eventStats?: () => { dropped: number; storeError: string | null };
  /** Told how long reconcile passes take and how their actions end. */
  readonly metrics?: MasterMetrics | undefined;
  /** False while this master does not lead: nothing is reconciled. @default always true */
  readonly leading?: () => boolean;
  /** The masters sharing the store and its health, for GetClusterStatus. @default none (a lone master) */
  readonly masters?: () => Pick<GridStatus, 'masters' | 'storeHealth'>;
}

/**
 * The master's declarative half: the applied spec (ApplySpec/GetSpec/DeleteSpec), the reconciler
 * that keeps the grid equal to it, and per-cluster health.
 */
export class DeclarativeControl {
  readonly desired: DesiredStateManager;
  readonly reconciler: Reconciler;
  /** Terms, leaders and roles of leader-replicas clusters. */
  readonly replication: ReplicationControl;
  /** Which agents take no new nodes (the spec's cordons and the operator's). */
  readonly cordons: CordonControl;
  /** Planned promotions (PromoteNode). */
  readonly handover: PlannedHandover;
  /** Restarts in place (RestartNode). */
  readonly restarts: NodeRestart;
  /** Runs ApplySpec's parse, validate, compile and plan off the event loop; started on first use. */
  private readonly specWorker: SpecWorker;
  /** Per cluster, the health last reported and whether any node ran then (see observeClusters). */
  private readonly health = new Map<string, { health: ClusterHealthState; anyRunning: boolean }>();
  /** When each cluster was first seen, until it is healthy for the first time. */
  private readonly converging = new Map<string, number>();

  constructor(private readonly o: DeclarativeOptions) {
    // The stored spec is compiled on the event loop at start-up, before the master serves.
    this.desired = new DesiredStateManager(o.store, compileSpecJson, () => this.reconciler.trigger());
    this.cordons = new CordonControl({ registry: o.registry, desired: this.desired, logger: o.logger.child({ component: 'cordons' }), events: o.events });
    this.specWorker = new SpecWorker({ logger: o.logger.child({ component: 'spec-worker' }) });
    this.replication = new ReplicationControl({
      registry: o.registry,
      ops: o.ops,
      desired: () => this.desired.desired(),
      record: (cluster, nodeId, term) => this.desired.setLeader(cluster, nodeId, term),
      logger: o.logger.child({ component: 'replication' }),
      ...(o.events !== undefined ? { events: o.events } : {}),
    });
    this.reconciler = new Reconciler(
      {
        desired: () => this.desired.desired(),
        live: () => this.live(),
        spawn: async (agentId, n) => {
          const replication = await this.replication.spawnFields(n.cluster, n.nodeId, n.role);
          await o.ops.spawn({ agentId, nodeId: n.nodeId, memoryMb: n.memoryMb, cluster: n.cluster, role: n.role, generation: n.generation, replacing: true, ...replication });
        },
        stop: async (agentId, nodeId) => {
          await o.ops.stop(nodeId, 0, agentId);
        },
        setLeader: (cluster, nodeId) => this.replication.promote(cluster, nodeId),
        handOver: async (_cluster, nodeId) => {
          await this.handover.promote(nodeId);
        },
        resumed: () => this.desired.resumed,
        afterPass: (desired) => this.replication.sync(desired),
        converged: (generation) => {
          this.desired.markGood(generation).catch((err: unknown) => o.logger.warn({ err: (err as Error).message }, 'could not record the last good spec'));
        },
        revert: (cluster, reason) => this.revert(cluster, reason),
        drainDeadlines: () => this.cordons.draining(),
      },
      {
        intervalMs: o.reconcileIntervalMs,
        settleMs: o.settleMs,
        observe: () => this.observeClusters(),
        logger: o.logger.child({ component: 'reconciler' }),
        metrics: o.metrics,
        ...(o.leading !== undefined ? { active: o.leading } : {}),
        ...(o.events !== undefined ? { events: o.events } : {}),
      },
    );
    const record = (cluster: string, nodeId: string, term: number): Promise<void> => this.desired.setLeader(cluster, nodeId, term);
    this.handover = new PlannedHandover({
      registry: o.registry,
      ops: o.ops,
      control: this.replication,
      desired: () => this.desired.desired(),
      record,
      logger: o.logger.child({ component: 'handover' }),
      ...(o.events !== undefined ? { events: o.events } : {}),
    });
    this.restarts = new NodeRestart({
      registry: o.registry,
      ops: o.ops,
      control: this.replication,
      handover: this.handover,
      reconciler: this.reconciler,
      desired: () => this.desired.desired(),
      logger: o.logger.child({ component: 'restart' }),
      restarted: (e) => o.events?.nodeRestarted?.(e),
    });
  }

  /**
   * After a failed rollout under autoRevert: applies the last good spec again, as a new generation
   * (checked against the generation read, so a user's apply in between wins).
   */
  private async revert(cluster: string, reason: string): Promise<number | undefined> {
    const good = this.desired.good();
    const current = this.desired.current();
    if (good === undefined || good.specJson === current.specJson) return undefined;
    const outcome = await this.apply(good.specJson, current.generation, false);
    if (!outcome.changed) return undefined;
    this.o.logger.warn({ cluster, from: current.generation, to: outcome.generation }, `rollout of cluster ${cluster} failed (${reason}): reverted to the spec of generation ${good.generation} as generation ${outcome.generation}`);
    this.o.events?.rolloutReverted?.({ cluster, fromGeneration: current.generation, toGeneration: outcome.generation, goodGeneration: good.generation, reason });
    return outcome.generation;
  }

  /** Loads the stored spec; call before serving. Resolves with why a stored spec is held unenforced. */
  init(): Promise<string | undefined> {
    return this.desired.init();
  }

  /**
   * Takes the shared state as it is now (another master may have changed it while this one did not
   * lead) and settles again before creating anything: called when this master starts leading.
   */
  async resume(): Promise<void> {
    const held = await this.desired.reload();
    if (held !== undefined) this.o.logger.error({ problem: held }, 'the stored spec no longer compiles: it is kept but not enforced');
    // What this master knew of the agents dates from before it led (a follower's beats are
    // refused): agents silent since would count as offline past replaceAfter and be replaced at
    // once. As after a restart, each must register with the new leader, which waits its settle
    // period (plus replaceAfter) for them before it replaces anything.
    this.o.registry.forgetAll();
    this.reconciler.resettle();
  }

  /**
   * On a follower of several masters, reads the shared state afresh (the leader may have changed
   * it since this master last looked), so its reads answer what etcd holds; nothing on a leader.
   */
  async refreshFollower(): Promise<void> {
    if (this.o.leading === undefined || this.o.leading()) return;
    await this.desired.reload();
  }

  /** Reconciles, reporting cluster health as the reconciler sees and changes it, until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    try {
      await this.reconciler.run(signal);
    } finally {
      await this.specWorker.close();
    }
  }

  private live(): LiveState {
    const d = this.desired.desired();
    return { ...buildLiveState(this.o.registry, d?.leaders ?? {}, this.o.offlineAfterMs(), Date.now(), d?.terms), cordons: this.cordons.forPlan(), draining: this.cordons.draining() };
  }

  /** Per-cluster status of the applied spec. */
  clusters(): ClusterStatus[] {
    const d = this.desired.desired();
    if (d === undefined) return [];
    const nodes = this.live().nodes;
    return d.spec.clusters.map((c) => clusterStatus(c, nodes));
  }

  private observeClusters(): void {
    this.cordons.observeDrains();
    const statuses = this.clusters();
    const seen = new Set<string>();
    for (const s of statuses) {
      seen.add(s.name);
      const last = this.health.get(s.name);
      const previous = last?.health;
      const anyRunning = s.running > 0;
      // A critical cluster that loses its last node is news again: "no leader" became "nothing runs".
      if (previous === s.health && (s.health !== 'critical' || last?.anyRunning === anyRunning)) continue;
      if (previous === undefined && s.health !== 'healthy') {
        // A cluster that is still being created is not critical: no alarm until it was healthy
        // once, or has failed to get there within the grace.
        const since = this.converging.get(s.name) ?? Date.now();
        this.converging.set(s.name, since);
        if (Date.now() - since < NEW_CLUSTER_GRACE_MS) continue;
      }
      this.converging.delete(s.name);
      this.health.set(s.name, { health: s.health as ClusterHealthState, anyRunning });
      this.o.logger.info({ cluster: s.name, running: s.running, desired: s.desired }, `cluster ${s.name} is ${s.health} (${s.running}/${s.desired} running)`);
      this.o.events?.clusterHealthChanged?.({ cluster: s.name, health: s.health as ClusterHealthState, previous, running: s.running, desired: s.desired });
    }
    for (const name of [...this.health.keys()]) if (!seen.has(name)) this.health.delete(name);
    for (const name of [...this.converging.keys()]) if (!seen.has(name)) this.converging.delete(name);
  }

  /**
   * Checks, plans and (unless a dry run) applies a spec; applies are serialized and each is planned
   * against the grid as it is when its turn comes. The plan comes back encoded by the spec worker.
   */
  async apply(specJson: string, expectedGeneration: number | undefined, dryRun: boolean): Promise<ApplyOutcome> {
    // Before any work. Only new specs are held to the limit: one stored before it still loads,
    // so its grid can be fixed by applying a smaller spec.
    checkSpecSize(specJson);
    // The spec in force is recorded as good first if the grid has reached it: its convergence
    // must not go unseen because no pass ran since (queued before this apply's turn).
    if (!dryRun) this.reconciler.noteConverged();
    const work = (json: string, keep: boolean) => this.specWorker.run({ specJson: json, live: this.live(), keep });
    const result = await this.desired.apply(specJson, expectedGeneration, dryRun, work);
    const { summary } = result;
    if (result.changed) {
      this.o.logger.info({ generation: result.generation }, `spec applied: generation ${result.generation} (${summary.create} to create, ${summary.destroy} to destroy)`);
      this.o.events?.specApplied?.({ generation: result.generation, plan: { summary }, deleted: false });
      this.cordons.specChanged(result.previous, this.desired.inForce());
    }
    return { generation: result.generation, changed: result.changed, encodedPlan: result.encodedPlan };
  }

  /**
   * Deletes the applied spec (its nodes are then stopped). Destructive, so never implied: the
   * caller names the generation or the grid it deletes.
   * @throws RuntimeError INVALID_ARGUMENT when neither is given.
   */
  async delete(expectedGeneration: number | undefined, gridName: string): Promise<number> {
    if (expectedGeneration === undefined && gridName === '') {
      throw new RuntimeError('INVALID_ARGUMENT', 'expected_generation or grid_name: is required; DeleteSpec must name the generation (GetSpec) or the grid it deletes', {
        field: 'expected_generation',
      });
    }
    const before = this.desired.inForce();
    const generation = await this.desired.delete(expectedGeneration, gridName);
    this.o.logger.info({ generation }, `spec deleted: generation ${generation}; its nodes are being stopped`);
    this.o.events?.specApplied?.({ generation, plan: { summary: { create: 0, destroy: 0, update: 0, replace: 0, unchanged: 0 } }, deleted: true });
    this.cordons.specChanged(before, this.desired.inForce());
    return generation;
  }

  /**
   * Nodes with roles as the master assigns them (a promotion changes no process, only who leads),
   * and statuses as the master counts them: a replica still catching up is `starting`, as the plan,
   * the cluster's health and a waiting `apply` see it.
   */
  nodes(filter: { agentId?: string; cluster?: string }): NodeView[] {
    const d = this.desired.desired();
    const leaders = d?.leaders ?? {};
    const terms = d?.terms ?? {};
    return this.o.registry.nodes.list(filter).map((n) => {
      if (n.cluster === '' || leaders[n.cluster] === undefined || n.role === 'standalone') return n;
      return { ...n, role: leaders[n.cluster] === n.nodeId ? 'leader' : 'replica', status: countedStatus(n, terms[n.cluster]) };
    });
  }

  /** The whole grid's status: agent and node counts, each cluster of the spec, the reconciler's progress. */
  status(): GridStatus {
    const terms = this.desired.desired()?.terms ?? {};
    return {
      ...computeClusterStatus(this.o.registry, (n) => (n.cluster !== '' ? countedStatus(n, terms[n.cluster]) : n.status)),
      clusters: this.clusters(),
      specGeneration: this.desired.current().generation,
      eventsDropped: this.o.eventStats?.().dropped ?? 0,
      eventStoreError: this.o.eventStats?.().storeError ?? '',
      reconcile: this.reconciler.progress,
      ...(this.o.masters?.() ?? { masters: [], storeHealth: '' }),
    };
  }
}
