import type { CompiledClusterSpec, CompiledUpdatePolicy } from '../../../schema/index.js';
import type { LiveState, Plan, PlanAction } from '../../../plan/index.js';
import type { RolloutState, RolloutStatus } from '../../../client/index.js';

/** Rollout facts the tracker reports (the master turns them into events). */
export interface RolloutEvents {
  rolloutStepStarted?(e: { cluster: string; nodeId: string; agentId: string; generation: number; step: number }): void;
  rolloutStepDone?(e: { cluster: string; nodeId: string; agentId: string; generation: number; step: number; durationMs: number }): void;
  rolloutDone?(e: { cluster: string; generation: number; nodes: number; durationMs: number }): void;
  rolloutFailed?(e: { cluster: string; generation: number; nodeId: string; reason: string; autoRevert: boolean }): void;
}

/** Failed rollouts kept for status after a newer generation replaced them. */
const KEEP_FINISHED = 16;

/** One node's restart of a rollout. */
interface Step {
  readonly nodeId: string;
  readonly agentId: string;
  readonly step: number;
  readonly startedAtMs: number;
  /** When the node was first seen running (counted: caught up) since its restart; reset by a flap. */
  healthySinceMs: number | undefined;
  done: boolean;
}

/** The rollout of one cluster to one generation. */
interface ClusterRollout {
  readonly cluster: string;
  readonly generation: number;
  readonly policy: CompiledUpdatePolicy;
  readonly startedAtMs: number;
  readonly steps: Map<string, Step>;
  /** Nodes the last pass planned as rollout steps (restarts in place, moves off a draining agent). */
  planned: ReadonlySet<string>;
  state: RolloutState;
  reason: string;
  /** Highest step started so far. */
  step: number;
}

/**
 * Keeps each cluster's rolling restart to its update policy: a paced action (`step` set: a restart
 * in place, or a move off a draining agent) starts only while
 * fewer than `maxUnavailable` nodes of its cluster are down (not running, restarting, or restarted
 * and not yet healthy for `minHealthyTime`), and only from the plan's first pending step, so the
 * leader goes last. A restarted node not healthy within `healthyDeadline` of its start fails the
 * rollout: no further node of the cluster restarts for that generation.
 */
export class RolloutTracker {
  private readonly rollouts = new Map<string, ClusterRollout>();
  private readonly finished: RolloutStatus[] = [];

  constructor(
    private readonly events: RolloutEvents,
    private readonly now: () => number,
  ) {}

  /**
   * Brings the rollouts up to a new pass: starts one per cluster with restarts planned for this
   * generation, judges the steps started (healthy long enough, or past the deadline), and ends
   * the rollouts with nothing left. Returns the rollouts that failed in this call.
   */
  observe(generation: number, clusters: readonly CompiledClusterSpec[], plan: Plan, live: LiveState, inFlight: ReadonlySet<string>): RolloutStatus[] {
    const planned = new Map<string, Set<string>>();
    for (const a of plan.actions) {
      if (a.step === undefined) continue;
      const ids = planned.get(a.cluster) ?? new Set<string>();
      ids.add(a.nodeId);
      planned.set(a.cluster, ids);
    }
    const declared = new Map(clusters.map((c) => [c.name, c]));
    for (const [name, r] of this.rollouts) {
      if (r.generation !== generation || !declared.has(name)) this.end(r);
    }
    const failed: RolloutStatus[] = [];
    const now = this.now();
    const running = runningNodes(live);
    for (const c of clusters) {
      let r = this.rollouts.get(c.name);
      const ids = planned.get(c.name) ?? new Set<string>();
      if (r === undefined) {
        if (ids.size === 0) continue;
        r = { cluster: c.name, generation, policy: c.update, startedAtMs: now, steps: new Map(), planned: ids, state: 'rolling', reason: '', step: 0 };
        this.rollouts.set(c.name, r);
      }
      r.planned = ids;
      // New steps after a finished rollout of the same generation (a drain started, or a drain's
      // leader may now hand over and move): the rollout goes on.
      if (r.state === 'done' && ids.size > 0) r.state = 'rolling';
      if (r.state !== 'rolling') continue;
      for (const s of r.steps.values()) {
        if (s.done) continue;
        const up = !inFlight.has(s.nodeId) && running.has(`${s.agentId}\u0000${s.nodeId}`);
        if (!up) s.healthySinceMs = undefined;
        else s.healthySinceMs ??= now;
        if (s.healthySinceMs !== undefined && now - s.healthySinceMs >= r.policy.minHealthyMs) {
          s.done = true;
          this.events.rolloutStepDone?.({ cluster: r.cluster, nodeId: s.nodeId, agentId: s.agentId, generation, step: s.step, durationMs: now - s.startedAtMs });
        } else if (now - s.startedAtMs > r.policy.healthyDeadlineMs) {
          r.state = r.policy.autoRevert ? 'reverting' : 'failed';
          r.reason = `${s.nodeId} was not healthy for ${seconds(r.policy.minHealthyMs)} within ${seconds(r.policy.healthyDeadlineMs)} of its restart (step ${s.step})`;
          this.events.rolloutFailed?.({ cluster: r.cluster, generation, nodeId: s.nodeId, reason: r.reason, autoRevert: r.policy.autoRevert });
          failed.push(statusOf(r));
          break;
        }
      }
      // A drain's leader moves only once a replica runs elsewhere, so a pass can see every planned
      // step done while the leader still waits on the draining agent: not done yet, or the drain
      // would tell of two rollouts for one generation.
      if (r.state === 'rolling' && ids.size === 0 && [...r.steps.values()].every((s) => s.done) && !onDrainingAgent(live, c.name)) {
        r.state = 'done';
        this.events.rolloutDone?.({ cluster: r.cluster, generation, nodes: r.steps.size, durationMs: now - r.startedAtMs });
      }
    }
    return failed;
  }

  /**
   * Whether the paced action `a` may start now. `starting` holds the restarts this pass already
   * let start (their cluster's nodes are down from now on); `firstStep` is the lowest step each
   * cluster still has planned.
   */
  mayStart(a: PlanAction, live: LiveState, inFlight: ReadonlySet<string>, starting: ReadonlySet<string>, firstStep: ReadonlyMap<string, number>): boolean {
    const r = this.rollouts.get(a.cluster);
    if (r === undefined || r.state !== 'rolling') return false;
    if ((a.step ?? 1) > (firstStep.get(a.cluster) ?? 1)) return false;
    const down = new Set<string>();
    for (const n of live.nodes) if (n.cluster === a.cluster && n.status !== 'running') down.add(n.nodeId);
    for (const s of r.steps.values()) if (!s.done) down.add(s.nodeId);
    for (const id of inFlight) if (live.nodes.some((n) => n.nodeId === id && n.cluster === a.cluster)) down.add(id);
    for (const id of starting) down.add(id);
    down.delete(a.nodeId);
    return down.size < r.policy.maxUnavailable;
  }

  /**
   * Records that the restart `a` starts now. A retry of a restart that failed keeps its first
   * start: the deadline counts from there.
   */
  started(a: PlanAction, generation: number): void {
    const r = this.rollouts.get(a.cluster);
    if (r === undefined) return;
    const previous = r.steps.get(a.nodeId);
    if (previous !== undefined && !previous.done) return;
    const step = a.step ?? 1;
    r.steps.set(a.nodeId, { nodeId: a.nodeId, agentId: a.agentId, step, startedAtMs: this.now(), healthySinceMs: undefined, done: false });
    if (step > r.step) r.step = step;
    this.events.rolloutStepStarted?.({ cluster: a.cluster, nodeId: a.nodeId, agentId: a.agentId, generation, step });
  }

  /**
   * Ends a reverting rollout: `reverted` once the last good spec is applied again as
   * `toGeneration`, else `failed` saying why not. A pass of the new generation may already have
   * retired it to the finished list: it is updated there.
   */
  revertEnded(cluster: string, fromGeneration: number, outcome: { toGeneration: number } | { why: string }): void {
    const state: RolloutState = 'toGeneration' in outcome ? 'reverted' : 'failed';
    const why = 'toGeneration' in outcome ? `; reverted to the last good spec as generation ${outcome.toGeneration}` : `; not reverted: ${outcome.why}`;
    const r = this.rollouts.get(cluster);
    if (r !== undefined && r.generation === fromGeneration && r.state === 'reverting') {
      r.state = state;
      r.reason += why;
      return;
    }
    const i = this.finished.findIndex((f) => f.cluster === cluster && f.generation === fromGeneration && f.state === 'reverting');
    if (i >= 0) this.finished[i] = { ...this.finished[i]!, state, reason: this.finished[i]!.reason + why };
  }

  /** Rollouts in progress or finished with this generation, then earlier failed ones, newest first. */
  status(): RolloutStatus[] {
    return [...[...this.rollouts.values()].map(statusOf), ...this.finished];
  }

  /** Forgets a rollout a newer generation replaced; a failed one stays in the status for a while. */
  private end(r: ClusterRollout): void {
    this.rollouts.delete(r.cluster);
    if (r.state === 'rolling' || r.state === 'done') return;
    this.finished.unshift(statusOf(r));
    this.finished.length = Math.min(this.finished.length, KEEP_FINISHED);
  }
}

function statusOf(r: ClusterRollout): RolloutStatus {
  const nodesDone = [...r.steps.values()].filter((s) => s.done).length;
  return {
    cluster: r.cluster,
    generation: r.generation,
    state: r.state,
    step: r.step,
    nodesDone,
    nodesTotal: new Set([...r.steps.keys(), ...r.planned]).size,
    reason: r.reason,
  };
}

function onDrainingAgent(live: LiveState, cluster: string): boolean {
  const draining = live.draining ?? {};
  return live.nodes.some((n) => n.cluster === cluster && Object.hasOwn(draining, n.agentId));
}

function runningNodes(live: LiveState): Set<string> {
  const out = new Set<string>();
  for (const n of live.nodes) if (n.status === 'running') out.add(`${n.agentId}\u0000${n.nodeId}`);
  return out;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
