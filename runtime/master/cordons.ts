/**
 * Cordons: an agent that takes no new nodes while its running nodes stay. The spec may declare one
 * (`agents[].cordoned`, reviewable in version control) and an operator may set one (CordonAgent,
 * kept with the applied spec in `spec.json`, so it survives a master restart); the agent is
 * cordoned while either says so. The plan engine does the rest: a cordoned agent is filtered out
 * for creates and replacements, and nodes left without an agent are reported unplaced, naming the
 * cordon.
 *
 * A drain (DrainAgent) is an operator's cordon with a deadline: the plan moves the agent's nodes of
 * declared clusters elsewhere, as rollout steps of their clusters' update policy until the deadline
 * and unpaced after it (`LiveState.draining`, `AgentPool.misplacement`). The agent is drained once
 * none of those nodes is left on it; uncordon ends a drain as it ends a cordon.
 */
import type { CompiledGridSpec } from '../../schema/index.js';
import { RuntimeError } from '../errors.js';
import { requireId } from '../common/grpc-edge.js';
import type { AgentCordon } from '../common/grid-types.js';
import type { Logger } from '../common/logger.js';
import type { AgentRegistry } from './agent-registry.js';
import type { StoredCordon } from './spec-store.js';
import type { DesiredStateManager } from './reconcile/desired-state.js';

/** Longest reason an operator may give (it is shown in list-agents and in events). */
export const MAX_CORDON_REASON_CHARS = 256;

/** A drain's deadline when the operator gives none (DrainAgent `deadline_ms` 0). */
export const DEFAULT_DRAIN_DEADLINE_MS = 5 * 60_000;

/** The longest drain deadline an operator may give. */
export const MAX_DRAIN_DEADLINE_MS = 24 * 60 * 60_000;

/**
 * The deadline (ms since the epoch) of a drain asked for with `deadline_ms` from `nowMs`: 0 means
 * {@link DEFAULT_DRAIN_DEADLINE_MS}.
 * @throws RuntimeError INVALID_ARGUMENT naming `deadline_ms` when it is negative or over 24 h.
 */
export function drainDeadline(deadlineMs: number, nowMs: number): number {
  if (!Number.isSafeInteger(deadlineMs) || deadlineMs < 0 || deadlineMs > MAX_DRAIN_DEADLINE_MS) {
    throw new RuntimeError('INVALID_ARGUMENT', `deadline_ms: must be from 0 (the default, 5 minutes) to ${MAX_DRAIN_DEADLINE_MS} (24 h), got ${deadlineMs}`, { field: 'deadline_ms' });
  }
  return nowMs + (deadlineMs === 0 ? DEFAULT_DRAIN_DEADLINE_MS : deadlineMs);
}

/** Who a cordon change came from. */
export type CordonSource = 'operator' | 'spec';

/** Cordon facts, for the event bus. Must not throw. */
export interface CordonEvents {
  agentCordoned?(e: { agentId: string; by: CordonSource; reason: string }): void;
  agentUncordoned?(e: { agentId: string; by: CordonSource; stillCordoned: boolean }): void;
  /** A drain started (or its deadline or reason changed); `deadlineMs` is ms since the epoch. */
  agentDrainStarted?(e: { agentId: string; deadlineMs: number; reason: string }): void;
  /** A draining agent holds no node of a declared cluster any more. */
  agentDrained?(e: { agentId: string; durationMs: number }): void;
}

/** What a cordon or uncordon call did. */
export interface CordonOutcome {
  /** The agent's cordon after the call; undefined when it is schedulable. */
  readonly cordon: AgentCordon | undefined;
  /** False when the call changed nothing (already so). */
  readonly changed: boolean;
}

export interface CordonControlOptions {
  readonly registry: AgentRegistry;
  readonly desired: DesiredStateManager;
  readonly logger: Logger;
  readonly events?: CordonEvents | undefined;
}

/** The operator's cordons, and every agent's cordon as the spec and the operator together make it. */
export class CordonControl {
  /** Drains already reported drained, by agent id -> the drain's start (so each is reported once). */
  private readonly reportedDrained = new Map<string, number>();
  /**
   * Draining agents this master started draining or saw holding a declared node: only those are
   * reported drained, so a master restarted after a drain ended does not report it again.
   */
  private readonly drainWatched = new Set<string>();

  constructor(private readonly o: CordonControlOptions) {}

  /** `agentId`'s cordon now, or undefined when it is schedulable. */
  of(agentId: string): AgentCordon | undefined {
    return this.lookup()(agentId);
  }

  /** A function answering {@link of} for many agents at the cost of one pass over the spec. */
  lookup(): (agentId: string) => AgentCordon | undefined {
    const bySpec = this.specCordons();
    const byOperator = this.o.desired.cordons();
    return (agentId) => combine(bySpec, byOperator, agentId, () => this.declaredNodesOn(agentId).length === 0);
  }

  /** Agents being drained, agent id -> the drain's deadline (ms since the epoch): `LiveState.draining`. */
  draining(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, c] of Object.entries(this.o.desired.cordons())) if (c.drainDeadlineMs !== undefined) out[id] = c.drainDeadlineMs;
    return out;
  }

  /** The operator's cordons as the plan engine takes them (`LiveState.cordons`): agent id -> reason. */
  forPlan(): Record<string, string> {
    return Object.fromEntries(Object.entries(this.o.desired.cordons()).map(([id, c]) => [id, c.reason]));
  }

  /**
   * Cordons `agentId` for the operator; a new reason replaces the old one.
   * @throws RuntimeError INVALID_ARGUMENT naming `agent_id` or `reason`; AGENT_NOT_FOUND when the
   * agent is neither registered nor declared in the applied spec.
   */
  async cordon(agentId: string, reason: string): Promise<CordonOutcome> {
    this.requireKnown(agentId);
    checkReason(reason);
    // A cordon of an agent being drained changes the reason only: the drain goes on.
    const before = this.o.desired.cordons()[agentId];
    const drain = before?.drainDeadlineMs !== undefined ? { sinceMs: before.sinceMs, drainDeadlineMs: before.drainDeadlineMs } : { sinceMs: Date.now() };
    const changed = await this.o.desired.setCordon(agentId, { reason, ...drain });
    if (changed) {
      this.o.logger.info({ agentId, reason }, `agent ${agentId} cordoned${reason !== '' ? `: ${reason}` : ''}; no new nodes are placed on it`);
      this.emit(() => this.o.events?.agentCordoned?.({ agentId, by: 'operator', reason }));
    }
    return { cordon: this.of(agentId), changed };
  }

  /**
   * Drains `agentId`: cordons it for the operator and has its nodes of declared clusters moved
   * elsewhere, paced by their clusters' update policy until `deadlineMs` (ms since the epoch). A
   * new deadline or reason replaces the old; the drain's start stays.
   * @throws RuntimeError as {@link cordon}.
   */
  async drain(agentId: string, deadlineMs: number, reason: string): Promise<CordonOutcome> {
    this.requireKnown(agentId);
    checkReason(reason);
    const before = this.o.desired.cordons()[agentId];
    const sinceMs = before?.drainDeadlineMs !== undefined ? before.sinceMs : Date.now();
    const changed = await this.o.desired.setCordon(agentId, { reason, sinceMs, drainDeadlineMs: deadlineMs });
    if (changed) {
      this.drainWatched.add(agentId);
      const inS = Math.max(0, Math.round((deadlineMs - Date.now()) / 1000));
      this.o.logger.info({ agentId, reason, deadlineMs }, `agent ${agentId} draining${reason !== '' ? ` (${reason})` : ''}: its nodes move to other agents, paced by their update policy for ${inS}s`);
      this.emit(() => this.o.events?.agentDrainStarted?.({ agentId, deadlineMs, reason }));
    }
    return { cordon: this.of(agentId), changed };
  }

  /**
   * Tells, once per drain, of each draining agent that holds no node of a declared cluster any
   * more. Called on every reconcile pass's observation. After a master restart a drain is told of
   * only once the agent was seen holding a node (it had not ended before the restart).
   */
  observeDrains(): void {
    const draining = this.o.desired.cordons();
    for (const id of [...this.reportedDrained.keys()]) {
      if (draining[id]?.drainDeadlineMs === undefined || draining[id]?.sinceMs !== this.reportedDrained.get(id)) this.reportedDrained.delete(id);
    }
    for (const id of [...this.drainWatched]) if (draining[id]?.drainDeadlineMs === undefined) this.drainWatched.delete(id);
    for (const [agentId, c] of Object.entries(draining)) {
      if (c.drainDeadlineMs === undefined || this.reportedDrained.has(agentId)) continue;
      if (this.declaredNodesOn(agentId).length > 0) {
        this.drainWatched.add(agentId);
        continue;
      }
      if (!this.drainWatched.has(agentId)) continue;
      this.reportedDrained.set(agentId, c.sinceMs);
      const durationMs = Math.max(0, Date.now() - c.sinceMs);
      this.o.logger.info({ agentId, durationMs }, `agent ${agentId} drained in ${(durationMs / 1000).toFixed(1)}s: it holds no declared node; uncordon it to place nodes on it again`);
      this.emit(() => this.o.events?.agentDrained?.({ agentId, durationMs }));
    }
  }

  /**
   * Removes the operator's cordon of `agentId`, and with it a drain. A cordon the spec declares
   * stays (the outcome shows it): only a spec change removes that.
   * @throws RuntimeError as {@link cordon}.
   */
  async uncordon(agentId: string): Promise<CordonOutcome> {
    this.requireKnown(agentId);
    const changed = await this.o.desired.setCordon(agentId, undefined);
    const cordon = this.of(agentId);
    if (changed) {
      const still = cordon !== undefined ? ' (the spec still cordons it)' : '; it takes new nodes again';
      this.o.logger.info({ agentId }, `agent ${agentId} uncordoned by the operator${still}`);
      this.emit(() => this.o.events?.agentUncordoned?.({ agentId, by: 'operator', stillCordoned: cordon !== undefined }));
    }
    return { cordon, changed };
  }

  /** Tells of the cordons a newly stored spec added or removed (`before`: the spec in force until then). */
  specChanged(before: CompiledGridSpec | undefined, after: CompiledGridSpec | undefined): void {
    const was = cordonedIn(before);
    const now = cordonedIn(after);
    const operator = this.o.desired.cordons();
    for (const agentId of now) {
      if (was.has(agentId)) continue;
      this.o.logger.info({ agentId }, `agent ${agentId} cordoned by the spec; no new nodes are placed on it`);
      this.emit(() => this.o.events?.agentCordoned?.({ agentId, by: 'spec', reason: '' }));
    }
    for (const agentId of was) {
      if (now.has(agentId)) continue;
      const still = Object.hasOwn(operator, agentId);
      this.o.logger.info({ agentId }, `agent ${agentId} no longer cordoned by the spec${still ? ' (an operator still cordons it)' : ''}`);
      this.emit(() => this.o.events?.agentUncordoned?.({ agentId, by: 'spec', stillCordoned: still }));
    }
  }

  private specCordons(): ReadonlySet<string> {
    return cordonedIn(this.o.desired.inForce());
  }

  /** Nodes of declared clusters on `agentId` that have not stopped. */
  private declaredNodesOn(agentId: string): string[] {
    const clusters = new Set((this.o.desired.inForce()?.clusters ?? []).map((c) => c.name));
    return this.o.registry.nodes
      .list({ agentId })
      .filter((n) => n.status !== 'stopped' && clusters.has(n.cluster))
      .map((n) => n.nodeId);
  }

  private requireKnown(agentId: string): void {
    requireId('agent_id', agentId);
    if (this.o.registry.get(agentId) !== undefined) return;
    if (this.o.desired.inForce()?.agents.some((a) => a.id === agentId) === true) return;
    throw new RuntimeError('AGENT_NOT_FOUND', `agent "${agentId}" not found: it is neither registered nor declared in the applied spec`, { agentId, field: 'agent_id' });
  }

  private emit(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.o.logger.error({ err }, 'a cordon event listener threw; ignored');
    }
  }
}

function cordonedIn(spec: CompiledGridSpec | undefined): Set<string> {
  return new Set((spec?.agents ?? []).filter((a) => a.cordoned === true).map((a) => a.id));
}

function checkReason(reason: string): void {
  if ([...reason].length > MAX_CORDON_REASON_CHARS) {
    throw new RuntimeError('INVALID_ARGUMENT', `reason: at most ${MAX_CORDON_REASON_CHARS} characters, got ${[...reason].length}`, { field: 'reason' });
  }
  if (/[\u0000-\u001f\u007f]/.test(reason)) {
    throw new RuntimeError('INVALID_ARGUMENT', 'reason: must be one line without control characters', { field: 'reason' });
  }
}

function combine(bySpec: ReadonlySet<string>, byOperator: Readonly<Record<string, StoredCordon>>, agentId: string, empty: () => boolean): AgentCordon | undefined {
  const spec = bySpec.has(agentId);
  const op = Object.hasOwn(byOperator, agentId) ? byOperator[agentId] : undefined;
  if (!spec && op === undefined) return undefined;
  const deadline = op?.drainDeadlineMs;
  return {
    bySpec: spec,
    byOperator: op !== undefined,
    reason: op?.reason ?? '',
    sinceMs: op?.sinceMs ?? 0,
    drainDeadlineMs: deadline ?? 0,
    drained: deadline !== undefined && empty(),
  };
}
