/**
 * Cordons: an agent that takes no new nodes while its running nodes stay. The spec may declare one
 * (`agents[].cordoned`, reviewable in version control) and an operator may set one (CordonAgent,
 * kept with the applied spec in `spec.json`, so it survives a master restart); the agent is
 * cordoned while either says so. The plan engine does the rest: a cordoned agent is filtered out
 * for creates and replacements, and nodes left without an agent are reported unplaced, naming the
 * cordon.
 *
 * Drain (issue 13) builds on this: cordon first, then move the agent's nodes under the update
 * policy. The seam is `AgentPool.misplacement` in plan/scheduler.ts.
 */
import type { CompiledGridSpec } from '../../schema/index.js';
import { RuntimeError } from '../errors.js';
import { requireId } from '../common/grpc-edge.js';
import type { AgentCordon } from '../common/grid-types.js';
import type { Logger } from '../common/logger.js';
import type { AgentRegistry } from './agent-registry.js';
import type { DesiredStateManager } from './reconcile/desired-state.js';

/** Longest reason an operator may give (it is shown in list-agents and in events). */
export const MAX_CORDON_REASON_CHARS = 256;

/** Who a cordon change came from. */
export type CordonSource = 'operator' | 'spec';

/** Cordon facts, for the event bus. Must not throw. */
export interface CordonEvents {
  agentCordoned?(e: { agentId: string; by: CordonSource; reason: string }): void;
  agentUncordoned?(e: { agentId: string; by: CordonSource; stillCordoned: boolean }): void;
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
  constructor(private readonly o: CordonControlOptions) {}

  /** `agentId`'s cordon now, or undefined when it is schedulable. */
  of(agentId: string): AgentCordon | undefined {
    return combine(this.specCordons(), this.o.desired.cordons(), agentId);
  }

  /** A function answering {@link of} for many agents at the cost of one pass over the spec. */
  lookup(): (agentId: string) => AgentCordon | undefined {
    const bySpec = this.specCordons();
    const byOperator = this.o.desired.cordons();
    return (agentId) => combine(bySpec, byOperator, agentId);
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
    if ([...reason].length > MAX_CORDON_REASON_CHARS) {
      throw new RuntimeError('INVALID_ARGUMENT', `reason: at most ${MAX_CORDON_REASON_CHARS} characters, got ${[...reason].length}`, { field: 'reason' });
    }
    if (/[\u0000-\u001f\u007f]/.test(reason)) {
      throw new RuntimeError('INVALID_ARGUMENT', 'reason: must be one line without control characters', { field: 'reason' });
    }
    const changed = await this.o.desired.setCordon(agentId, { reason, sinceMs: Date.now() });
    if (changed) {
      this.o.logger.info({ agentId, reason }, `agent ${agentId} cordoned${reason !== '' ? `: ${reason}` : ''}; no new nodes are placed on it`);
      this.emit(() => this.o.events?.agentCordoned?.({ agentId, by: 'operator', reason }));
    }
    return { cordon: this.of(agentId), changed };
  }

  /**
   * Removes the operator's cordon of `agentId`. A cordon the spec declares stays (the outcome
   * shows it): only a spec change removes that.
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

function combine(bySpec: ReadonlySet<string>, byOperator: Readonly<Record<string, { reason: string; sinceMs: number }>>, agentId: string): AgentCordon | undefined {
  const spec = bySpec.has(agentId);
  const op = Object.hasOwn(byOperator, agentId) ? byOperator[agentId] : undefined;
  if (!spec && op === undefined) return undefined;
  return { bySpec: spec, byOperator: op !== undefined, reason: op?.reason ?? '', sinceMs: op?.sinceMs ?? 0 };
}
