/**
 * A plan as `sutra-grid plan` and the HTTP API's `POST plan` show it: the master's dry-run plan
 * plus whether the spec's own settings would change (monitoring, say) when no node does.
 */
import { canonicalJson } from '../schema/index.js';
import { renderPlan } from './render.js';
import type { Plan } from './types.js';

/** A plan plus whether the spec's own settings differ from the applied one. */
export interface SpecPlan {
  readonly plan: Plan;
  /** The applied generation the plan was made against (ApplySpec's expected_generation). */
  readonly generation: number;
  /** True when the stored spec differs (e.g. monitoring settings) even if no node changes. */
  readonly specChanged: boolean;
}

/** Whether storing `input` would change the applied spec (`appliedJson`, '' when none is). */
export function specDiffers(appliedJson: string, input: unknown): boolean {
  return appliedJson === '' || appliedJson !== canonicalJson(input);
}

/** Renders a plan, adding the spec-settings line terraform users expect when only settings change. */
export function renderSpecPlan(p: SpecPlan): string {
  const text = renderPlan(p.plan);
  if (!p.specChanged || p.plan.changed) return text;
  return `  ~ update spec settings (generation ${p.generation} -> ${p.generation + 1})\n\n${text.replace(/^No changes\. The grid matches the spec\.$/m, 'Plan: spec settings change; no node changes.')}`;
}

/** True when applying would change anything. */
export function hasChanges(p: SpecPlan): boolean {
  return p.plan.changed || p.specChanged || p.plan.unplaced.length > 0;
}
