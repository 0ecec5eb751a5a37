import type { CompiledGridSpec } from '../../../schema/index.js';
import { planGrid, type LiveNode, type LiveState, type Plan, type PlanAction } from '../../../plan/index.js';
import { silentLogger, type Logger } from '../../common/logger.js';
import { backoffDelay } from '../../../client/transport.js';
import type { ReconcileState } from '../../../client/index.js';
import { ActionQueue } from './action-queue.js';
import { RolloutTracker } from './rollout-tracker.js';
import { ActionRunner, type PassContext } from './action-runner.js';
import { observe as observeMetric, secondsSince, type MasterMetrics } from '../master-metrics.js';
import type { ReconcilerEvents, ReconcilerHost, ReconcilerOptions } from './reconciler-host.js';

export type { DesiredState, ReconcilerEvents, ReconcilerHost, ReconcilerOptions } from './reconciler-host.js';

/** Least time between two observations after actions (see ReconcilerOptions.observe). */
const OBSERVE_EVERY_MS = 100;

/**
 * Keeps live state equal to the applied spec: each pass plans against what the master sees and
 * starts the actions on a queue bounded in total and per agent, without waiting for them: a slow
 * or hung agent delays only its own actions, and the next pass starts independent work at once. A
 * node with an operation in flight is left out of the next plans until it completes (planned as if
 * it had); a failing node backs off exponentially. Paced actions (restarts in place, moves off a
 * draining agent) go in their cluster's rollout steps, each once the previous one runs again: a
 * cluster never drops to zero.
 */
export class Reconciler {
  private readonly intervalMs: number;
  private readonly queue: ActionQueue;
  /** Every action started and not finished, so run() can wait for them when it ends. */
  private readonly running = new Set<Promise<void>>();
  private readonly logger: Logger;
  private readonly events: ReconcilerEvents;
  private readonly now: () => number;
  private readonly observe: () => void;
  private readonly metrics: MasterMetrics | undefined;
  private lastObservedMs = 0;
  private startedAtMs: number;
  private readonly active: () => boolean;
  /** Several masters: the reconciler runs only while this one leads (`active` was given). */
  private readonly elected: boolean;
  /** Whether the last pass ran as leader, to log the first pass of each leadership. */
  private ledLastPass = false;
  private readonly settleMs: number;
  private readonly inFlight = new Map<string, PlanAction>();
  private readonly failures = new Map<string, { count: number; retryAtMs: number }>();
  /** Where this master last put each node: decides which copy survives when two exist. */
  private readonly assignments: Record<string, string> = {};
  private readonly lastUnplaced = new Map<string, string>();
  private wake: (() => void) | undefined;
  private triggered = false;
  private passes = 0;
  private lastPlan: Plan | undefined;
  private lastGeneration = 0;
  /** Actions (by {@link actionKey}) of the last plan and those in flight that have not completed yet. */
  private readonly outstanding = new Set<string>();
  private readonly rollouts: RolloutTracker;
  private readonly runner: ActionRunner;
  private lastConverged = 0;

  constructor(private readonly host: ReconcilerHost, opts: ReconcilerOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 1000;
    const total = Math.max(1, opts.concurrency ?? 8);
    this.queue = new ActionQueue({ total, perAgent: Math.max(1, opts.perAgentConcurrency ?? Math.ceil(total / 2)) });
    this.logger = opts.logger ?? silentLogger;
    this.events = opts.events ?? {};
    this.now = opts.now ?? Date.now;
    this.settleMs = opts.settleMs ?? 0;
    this.observe = opts.observe ?? (() => undefined);
    this.metrics = opts.metrics;
    this.startedAtMs = this.now();
    this.active = opts.active ?? (() => true);
    this.elected = opts.active !== undefined;
    this.rollouts = new RolloutTracker(this.events, this.now);
    this.runner = new ActionRunner(host, this.events, this.logger, this.assignments, this.now);
  }

  /**
   * Starts the settle period again: a master that just became leader has not heard from the agents
   * yet, and must not create or replace what they may run (as after a restart).
   */
  resettle(): void {
    this.startedAtMs = this.now();
    this.lastConverged = 0;
    this.trigger();
  }

  /** Asks for a pass as soon as possible (after an apply, a registration, a node failure). */
  trigger(): void {
    this.triggered = true;
    this.wake?.();
  }

  /** Number of completed passes (tests and status use it). */
  get passCount(): number {
    return this.passes;
  }

  /** The plan of the last pass, before its actions ran. */
  get lastPlanned(): Plan | undefined {
    return this.lastPlan;
  }

  /** How far the reconciler is with the applied spec (GetClusterStatus reports it to waiting clients). */
  get progress(): ReconcileState {
    return { generation: this.lastGeneration, pendingActions: this.outstanding.size, unplaced: this.lastPlan?.unplaced ?? [], rollouts: this.rollouts.status() };
  }

  /**
   * Runs passes until `signal` aborts, then waits for the actions already started. Never throws: a
   * failed pass is logged and retried.
   */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        this.start(signal);
      } catch (err) {
        this.logger.error({ err }, 'reconcile pass failed');
      }
      this.passes++;
      if (signal.aborted) break;
      if (!this.triggered) await this.idle(signal);
      this.triggered = false;
    }
    await Promise.all([...this.running]);
  }

  private idle(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.intervalMs);
      signal.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }

  /**
   * Runs `fn` (an operator's restart of `a.nodeId`) with the node left out of every pass's actions,
   * as an action of the reconciler's own would be: nothing recreates, replaces or promotes it
   * meanwhile. Waits for an action of the reconciler's on the node to end first.
   */
  async holding<T>(a: PlanAction, fn: () => Promise<T>): Promise<T> {
    while (this.inFlight.has(a.nodeId)) await new Promise((r) => setTimeout(r, 50));
    this.inFlight.set(a.nodeId, a);
    try {
      return await fn();
    } finally {
      if (this.inFlight.get(a.nodeId) === a) this.inFlight.delete(a.nodeId);
      this.trigger();
    }
  }

  /**
   * Tells the host now, without acting, when the grid has reached the spec in force and no pass
   * has said so yet. Called before a new spec replaces it: a client's wait can see the grid
   * converged before the next pass does (nodes report running between passes), and the spec a
   * failed rollout goes back to must not depend on whether a pass came between that and the next
   * apply.
   */
  noteConverged(): void {
    if (!this.active()) return;
    const desired = this.host.desired();
    if (desired === undefined || desired.generation === this.lastConverged) return;
    const observed = this.host.live();
    const plan = planGrid(desired.spec, this.withInFlight(observed), { assignments: this.assignments });
    this.reportConverged(desired.generation, plan, observed);
  }

  /** One plan-and-act pass that waits for its own actions. Exposed for tests that step the reconciler by hand. */
  async pass(signal?: AbortSignal): Promise<Plan | undefined> {
    const started = this.start(signal);
    await started.done;
    return started.plan;
  }

  /** Plans and queues the runnable actions; `done` resolves once those actions have finished. */
  private start(signal?: AbortSignal): { plan: Plan | undefined; done: Promise<unknown> } {
    const started = process.hrtime.bigint();
    if (!this.active()) {
      this.ledLastPass = false;
      return { plan: undefined, done: Promise.resolve() };
    }
    if (this.elected && !this.ledLastPass) {
      // The moment a new leader starts acting (the failover benchmark measures up to this line).
      this.logger.info({ atMs: Date.now() }, 'first reconcile pass as leader');
    }
    this.ledLastPass = true;
    this.observeNow();
    const desired = this.host.desired();
    if (desired === undefined) return { plan: undefined, done: Promise.resolve() };
    const observed = this.host.live();
    const live = this.withInFlight(observed);
    const plan = planGrid(desired.spec, live, { assignments: this.assignments });
    this.lastPlan = plan;
    this.lastGeneration = desired.generation;
    // Left to do: this plan (in-flight actions are planned as done, so they are added back).
    this.outstanding.clear();
    for (const a of [...plan.actions, ...this.inFlight.values()]) this.outstanding.add(actionKey(a));
    this.reportUnplaced(plan);
    const inFlightIds = new Set(this.inFlight.keys());
    for (const failed of this.rollouts.observe(desired.generation, desired.spec.clusters, plan, observed, inFlightIds)) {
      if (failed.state === 'reverting') void this.revert(failed.cluster, failed.generation, failed.reason);
    }
    this.reportConverged(desired.generation, plan, observed);
    const settling = !this.settled(desired.spec, live);
    const now = this.now();
    const deadlines = this.host.drainDeadlines?.() ?? {};
    // Past its drain's deadline, a move off the agent is no longer a step: it goes at once.
    const paced = (a: PlanAction): boolean => a.step !== undefined && !(a.fromAgentId !== undefined && a.fromAgentId !== a.agentId && now >= (deadlines[a.fromAgentId] ?? Infinity));
    const firstStep = new Map<string, number>();
    for (const a of plan.actions) {
      if (paced(a) && !this.inFlight.has(a.nodeId)) firstStep.set(a.cluster, Math.min(firstStep.get(a.cluster) ?? Infinity, a.step ?? 1));
    }
    const starting = new Set<string>();
    const surging = this.surgesInFlight();
    const runnable = plan.actions.filter((a) => {
      if (this.inFlight.has(a.nodeId)) return false;
      // A node absent while agents may still be re-registering is not lost: nothing is created,
      // replaced or promoted in its place until they have (a promotion starts a new term).
      if (settling && a.op !== 'destroy') return false;
      const f = this.failures.get(a.nodeId);
      if (f !== undefined && f.retryAtMs > now) return false;
      // A move that starts its new copy first waits while its cluster has maxSurge extra copies.
      const surge = a.surge === true ? surging.get(a.cluster) ?? 0 : 0;
      if (a.surge === true && surge >= (desired.spec.clusters.find((c) => c.name === a.cluster)?.update.maxSurge ?? 0)) return false;
      if (paced(a)) {
        if (!this.rollouts.mayStart(a, observed, inFlightIds, starting, firstStep)) return false;
        starting.add(a.nodeId);
        this.rollouts.started(a, desired.generation);
      }
      if (a.surge === true) surging.set(a.cluster, surge + 1);
      return true;
    });
    if (runnable.length > 0) {
      this.logger.debug({ actions: runnable.length, generation: desired.generation }, 'reconciling');
    }
    const ctx: PassContext = {
      desired,
      reachable: new Set(observed.agents.filter((a) => a.health !== 'offline').map((a) => a.id)),
      signal,
    };
    const done = Promise.all(runnable.map((a) => this.enqueue(a, ctx)));
    this.host.afterPass?.(desired);
    observeMetric(this.metrics, 'reconcilePass', { seconds: secondsSince(started), actions: runnable.length });
    return { plan, done };
  }

  /** Moves in flight that run two copies of their node, by cluster. */
  private surgesInFlight(): Map<string, number> {
    const out = new Map<string, number>();
    for (const a of this.inFlight.values()) if (a.surge === true) out.set(a.cluster, (out.get(a.cluster) ?? 0) + 1);
    return out;
  }

  /**
   * Tells the host once per generation that the grid reached it: nothing left to do, every declared
   * node running, and its rollouts (if any) done.
   */
  private reportConverged(generation: number, plan: Plan, live: LiveState): void {
    if (generation === this.lastConverged || plan.changed || plan.unplaced.length > 0 || this.inFlight.size > 0) return;
    if (live.nodes.some((n) => n.cluster !== '' && n.status !== 'running')) return;
    if (this.rollouts.status().some((r) => r.generation === generation && r.state !== 'done')) return;
    this.lastConverged = generation;
    this.host.converged?.(generation);
  }

  /** Goes back to the last good spec after a failed rollout (autoRevert). */
  private async revert(cluster: string, generation: number, reason: string): Promise<void> {
    try {
      const to = await this.host.revert?.(cluster, reason);
      if (to === undefined) {
        this.logger.warn({ cluster }, `rollout of cluster ${cluster} failed and there is no earlier good spec to revert to`);
        this.rollouts.revertEnded(cluster, generation, { why: 'no earlier good spec (or a newer spec was applied)' });
        return;
      }
      this.rollouts.revertEnded(cluster, generation, { toGeneration: to });
      this.trigger();
    } catch (err) {
      this.logger.error({ cluster, err: (err as Error).message }, `reverting cluster ${cluster} after its failed rollout failed`);
      this.rollouts.revertEnded(cluster, generation, { why: (err as Error).message });
    }
  }

  /** Marks the action in flight at once (the next pass skips it) and queues it. */
  private enqueue(a: PlanAction, ctx: PassContext): Promise<void> {
    this.inFlight.set(a.nodeId, a);
    const agents = a.op === 'update' ? [] : [a.agentId];
    if (a.fromAgentId !== undefined && a.fromAgentId !== a.agentId && ctx.reachable.has(a.fromAgentId)) agents.push(a.fromAgentId);
    const run = this.queue.add(agents, () => this.act(a, ctx));
    this.running.add(run);
    void run.then(() => this.running.delete(run));
    return run;
  }

  /**
   * After a restart, a declared agent that has not registered yet may still run nodes the master
   * cannot see (agents re-register with a reconnect backoff of several seconds). Such an agent is
   * treated like one offline since the start: nothing is created, replaced or promoted before the settle
   * period plus the spec's replaceAfter grace, as long as a running master keeps an offline
   * agent's nodes. A master that starts with no stored spec has nothing to wait for but --settle.
   */
  private settled(spec: CompiledGridSpec, live: LiveState): boolean {
    const graceMs = this.host.resumed?.() === true ? spec.monitoring.replaceAfterMs : 0;
    if (this.now() - this.startedAtMs >= this.settleMs + graceMs) return true;
    const seen = new Set(live.agents.map((a) => a.id));
    return spec.agents.every((a) => seen.has(a.id));
  }

  /**
   * Live state as if the actions in flight had completed: a node being spawned is present (the
   * next plan does not spawn it again), a copy being stopped or replaced is gone (its slot is not
   * counted twice while passes overlap).
   */
  private withInFlight(live: LiveState): LiveState {
    if (this.inFlight.size === 0) return live;
    const gone = new Set<string>();
    for (const a of this.inFlight.values()) {
      if (a.op === 'destroy') gone.add(`${a.agentId}\u0000${a.nodeId}`);
      else if (a.op === 'replace' && a.fromAgentId !== undefined) gone.add(`${a.fromAgentId}\u0000${a.nodeId}`);
    }
    const nodes: LiveNode[] = live.nodes.filter((n) => !gone.has(`${n.agentId}\u0000${n.nodeId}`));
    for (const a of this.inFlight.values()) {
      if (a.op !== 'create' && a.op !== 'replace') continue;
      if (nodes.some((n) => n.nodeId === a.nodeId && n.agentId === a.agentId)) continue;
      nodes.push({ nodeId: a.nodeId, agentId: a.agentId, cluster: a.cluster, role: a.role, status: 'starting', port: 0, memoryMb: a.memoryMb, restarts: 0, generation: 0 });
    }
    return { ...live, nodes };
  }

  private reportUnplaced(plan: Plan): void {
    const current = new Set<string>();
    for (const u of plan.unplaced) {
      current.add(u.cluster);
      if (this.lastUnplaced.get(u.cluster) === u.reason) continue;
      this.lastUnplaced.set(u.cluster, u.reason);
      this.logger.warn({ cluster: u.cluster }, u.reason);
      this.events.placementFailed?.({ cluster: u.cluster, nodeIds: u.nodeIds, reason: u.reason });
    }
    for (const c of [...this.lastUnplaced.keys()]) if (!current.has(c)) this.lastUnplaced.delete(c);
  }

  private async act(a: PlanAction, ctx: PassContext): Promise<void> {
    if (ctx.signal?.aborted === true || !this.active()) {
      this.inFlight.delete(a.nodeId);
      return;
    }
    try {
      await this.runner.run(a, ctx);
      this.failures.delete(a.nodeId);
      this.outstanding.delete(actionKey(a));
      observeMetric(this.metrics, 'reconcileAction', { op: a.op, ok: true });
    } catch (err) {
      observeMetric(this.metrics, 'reconcileAction', { op: a.op, ok: false });
      const count = (this.failures.get(a.nodeId)?.count ?? 0) + 1;
      const delay = backoffDelay(count - 1, { initialMs: 500, maxMs: 30_000 });
      this.failures.set(a.nodeId, { count, retryAtMs: this.now() + delay });
      this.logger.warn({ nodeId: a.nodeId, agentId: a.agentId, op: a.op, err: (err as Error).message, retryInMs: delay }, `${a.op} ${a.nodeId} failed`);
    } finally {
      this.inFlight.delete(a.nodeId);
      // A rolling restart's next node, or a retry, waits for a pass.
      if (a.step !== undefined) this.trigger();
      // Observing costs a walk over every node: after a promotion always (a changed leader is news),
      // otherwise at most every OBSERVE_EVERY_MS, so a 10,000-node apply does not walk 10,000 times.
      const now = this.now();
      if (a.op === 'update' || now - this.lastObservedMs >= OBSERVE_EVERY_MS) this.observeNow();
    }
  }

  private observeNow(): void {
    this.lastObservedMs = this.now();
    this.observe();
  }
}

/** Identifies an action across passes: the same op on the same node and agent. */
function actionKey(a: PlanAction): string {
  return `${a.op}\u0000${a.nodeId}\u0000${a.agentId}`;
}


