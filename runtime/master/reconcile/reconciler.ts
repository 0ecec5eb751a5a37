import type { CompiledGridSpec } from '../../../schema/index.js';
import { planGrid, type LiveNode, type LiveState, type Plan, type PlanAction } from '../../../provider/plan/index.js';
import { silentLogger, type Logger } from '../../common/logger.js';
import { backoffDelay } from '../../common/backoff.js';

/** Least time between two observations after actions (see ReconcilerOptions.observe). */
const OBSERVE_EVERY_MS = 100;

/** What the reconciler converges to: the applied spec and who currently leads each cluster. */
export interface DesiredState {
  readonly spec: CompiledGridSpec;
  readonly generation: number;
  readonly leaders: Readonly<Record<string, string>>;
}

/** Lifecycle facts the reconciler reports (the master turns them into events). */
export interface ReconcilerEvents {
  nodeReplaced?(e: { cluster: string; nodeId: string; fromAgentId: string; toAgentId: string; reason: string }): void;
  leaderChanged?(e: { cluster: string; nodeId: string; previous: string; reason: string }): void;
  placementFailed?(e: { cluster: string; nodeIds: readonly string[]; reason: string }): void;
}

/** The master-side operations the reconciler drives; each call goes to a real agent. */
export interface ReconcilerHost {
  desired(): DesiredState | undefined;
  /** Live agents and nodes, with the master's leader assignments already applied to roles. */
  live(): LiveState;
  spawn(agentId: string, node: { nodeId: string; memoryMb: number; cluster: string; role: string; generation: number }): Promise<void>;
  stop(agentId: string, nodeId: string): Promise<void>;
  /** Durably records a new leader (a promotion survives a master restart). */
  setLeader(cluster: string, nodeId: string): Promise<void>;
  /** True when the desired state was loaded from the store at start (a master restart). */
  resumed?(): boolean;
}

export interface ReconcilerOptions {
  /** Time between passes when nothing triggers one. @default 1000 */
  readonly intervalMs?: number;
  /** Actions run at most this many at a time. @default 8 */
  readonly concurrency?: number;
  /**
   * After the master starts, no node is created or replaced until every declared agent has
   * registered or this long has passed (plus the spec's `replaceAfter` when the spec was loaded
   * from the store): agents must first tell a restarted master what they run, or it would start
   * duplicates. @default 0
   */
  readonly settleMs?: number;
  readonly logger?: Logger;
  readonly events?: ReconcilerEvents;
  readonly now?: () => number;
  /**
   * Called at the start of every pass (before planning) and after each action: an observer sees
   * every state the reconciler acts on and every state it makes (a lost leader before its replica
   * is promoted, the promoted cluster before its lost node is replaced).
   */
  readonly observe?: () => void;
}

/**
 * Keeps live state equal to the applied spec: each pass plans against what the master sees and
 * runs the actions with bounded concurrency. A node with an operation in flight is left out of
 * the next plans until it completes; a failing node backs off exponentially.
 */
export class Reconciler {
  private readonly intervalMs: number;
  private readonly concurrency: number;
  private readonly logger: Logger;
  private readonly events: ReconcilerEvents;
  private readonly now: () => number;
  private readonly observe: () => void;
  private lastObservedMs = 0;
  private readonly startedAtMs: number;
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

  constructor(private readonly host: ReconcilerHost, opts: ReconcilerOptions = {}) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.concurrency = opts.concurrency ?? 8;
    this.logger = opts.logger ?? silentLogger;
    this.events = opts.events ?? {};
    this.now = opts.now ?? Date.now;
    this.settleMs = opts.settleMs ?? 0;
    this.observe = opts.observe ?? (() => undefined);
    this.startedAtMs = this.now();
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

  /** Runs passes until `signal` aborts. Never throws: a failed pass is logged and retried. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.pass(signal);
      } catch (err) {
        this.logger.error({ err }, 'reconcile pass failed');
      }
      this.passes++;
      if (signal.aborted) break;
      if (!this.triggered) await this.idle(signal);
      this.triggered = false;
    }
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

  /** One plan-and-act pass. Exposed for tests that step the reconciler by hand. */
  async pass(signal?: AbortSignal): Promise<Plan | undefined> {
    this.observeNow();
    const desired = this.host.desired();
    if (desired === undefined) return undefined;
    const live = this.withInFlight(this.host.live());
    const plan = planGrid(desired.spec, live, { assignments: this.assignments });
    this.lastPlan = plan;
    this.reportUnplaced(plan);
    const settling = !this.settled(desired.spec, live);
    const now = this.now();
    const runnable = plan.actions.filter((a) => {
      if (this.inFlight.has(a.nodeId)) return false;
      if (settling && (a.op === 'create' || a.op === 'replace')) return false;
      const f = this.failures.get(a.nodeId);
      return f === undefined || f.retryAtMs <= now;
    });
    if (runnable.length > 0) {
      this.logger.debug({ actions: runnable.length, generation: desired.generation }, 'reconciling');
    }
    await this.runBounded(runnable, (a) => this.act(a, desired, signal));
    return plan;
  }

  /**
   * After a restart, a declared agent that has not registered yet may still run nodes the master
   * cannot see (agents re-register with a reconnect backoff of several seconds). Such an agent is
   * treated like one offline since the start: nothing is created or replaced before the settle
   * period plus the spec's replaceAfter grace, as long as a running master keeps an offline
   * agent's nodes. A master that starts with no stored spec has nothing to wait for but --settle.
   */
  private settled(spec: CompiledGridSpec, live: LiveState): boolean {
    const graceMs = this.host.resumed?.() === true ? spec.monitoring.replaceAfterMs : 0;
    if (this.now() - this.startedAtMs >= this.settleMs + graceMs) return true;
    const seen = new Set(live.agents.map((a) => a.id));
    return spec.agents.every((a) => seen.has(a.id));
  }

  /** Counts nodes being spawned as present, so the next plan does not spawn them again. */
  private withInFlight(live: LiveState): LiveState {
    if (this.inFlight.size === 0) return live;
    const nodes: LiveNode[] = [...live.nodes];
    for (const a of this.inFlight.values()) {
      if (a.op !== 'create' && a.op !== 'replace') continue;
      if (nodes.some((n) => n.nodeId === a.nodeId && n.agentId === a.agentId)) continue;
      nodes.push({ nodeId: a.nodeId, agentId: a.agentId, cluster: a.cluster, role: a.role, status: 'starting', port: 0, memoryMb: a.memoryMb, restarts: 0, generation: 0 });
    }
    return { agents: live.agents, nodes };
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

  private async act(a: PlanAction, desired: DesiredState, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    this.inFlight.set(a.nodeId, a);
    try {
      switch (a.op) {
        case 'create':
          await this.host.spawn(a.agentId, { nodeId: a.nodeId, memoryMb: a.memoryMb, cluster: a.cluster, role: a.role, generation: desired.generation });
          this.assignments[a.nodeId] = a.agentId;
          break;
        case 'destroy':
          await this.host.stop(a.agentId, a.nodeId);
          if (this.assignments[a.nodeId] === a.agentId) delete this.assignments[a.nodeId];
          break;
        case 'update': {
          const previous = desired.leaders[a.cluster] ?? '';
          if (a.role === 'leader') {
            await this.host.setLeader(a.cluster, a.nodeId);
            this.events.leaderChanged?.({ cluster: a.cluster, nodeId: a.nodeId, previous, reason: a.reason });
          }
          break;
        }
        case 'replace':
          if (a.fromAgentId !== undefined) {
            // The old agent may be unreachable (that is often why we replace): best effort.
            await this.host.stop(a.fromAgentId, a.nodeId).catch((err: unknown) => {
              this.logger.debug({ err, nodeId: a.nodeId }, 'old copy not stopped; the plan removes it when its agent returns');
            });
          }
          this.assignments[a.nodeId] = a.agentId;
          await this.host.spawn(a.agentId, { nodeId: a.nodeId, memoryMb: a.memoryMb, cluster: a.cluster, role: a.role, generation: desired.generation });
          this.events.nodeReplaced?.({ cluster: a.cluster, nodeId: a.nodeId, fromAgentId: a.fromAgentId ?? '', toAgentId: a.agentId, reason: a.reason });
          break;
      }
      this.failures.delete(a.nodeId);
    } catch (err) {
      const count = (this.failures.get(a.nodeId)?.count ?? 0) + 1;
      const delay = backoffDelay(count - 1, { initialMs: 500, maxMs: 30_000 });
      this.failures.set(a.nodeId, { count, retryAtMs: this.now() + delay });
      this.logger.warn({ nodeId: a.nodeId, agentId: a.agentId, op: a.op, err: (err as Error).message, retryInMs: delay }, `${a.op} ${a.nodeId} failed`);
    } finally {
      this.inFlight.delete(a.nodeId);
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

  private async runBounded<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const item = items[next++] as T;
        await fn(item);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, items.length) }, worker));
  }
}
