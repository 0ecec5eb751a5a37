import type { Command } from 'commander';
import { renderPlan, type Plan } from '../../../plan/index.js';
import { canonicalJson } from '../../../schema/index.js';
import type { MasterClient } from '../../../client/index.js';
import { addClientOptions, withMaster } from '../client-flags.js';
import { printJson } from '../output.js';
import { loadSpecForCommand, type LoadedSpec } from '../spec-file.js';

/** A plan plus whether the spec's own settings differ from the applied one. */
export interface SpecPlan {
  readonly plan: Plan;
  /** The applied generation the plan was made against (ApplySpec's expected_generation). */
  readonly generation: number;
  /** True when the stored spec differs (e.g. monitoring settings) even if no node changes. */
  readonly specChanged: boolean;
}

/** Plans `spec` against the master: the dry-run plan and whether the stored spec would change. */
export async function planSpec(master: MasterClient, spec: LoadedSpec): Promise<SpecPlan> {
  const current = await master.getSpec();
  const { plan } = await master.applySpec(spec.json, undefined, true);
  const specChanged = current.specJson === '' || current.specJson !== canonicalJson(spec.input);
  return { plan, generation: current.generation, specChanged };
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

/**
 * `sutra-grid plan FILE`: what apply would do, terraform-style. Exit 0 = no changes, 2 = changes,
 * 1 = error (terraform's -detailed-exitcode).
 */
export function registerPlanCommand(program: Command): void {
  addClientOptions(
    program.command('plan').description('show what applying a grid.yaml would change (exit 0: none, 2: changes, 1: error)').argument('<file>', 'grid spec (YAML)'),
  ).action(async (file: string, _opts: unknown, cmd: Command) => {
    const spec = await loadSpecForCommand(file);
    await withMaster(cmd, async (master, { json }) => {
      const p = await planSpec(master, spec);
      if (json) printJson({ ...p.plan, specChanged: p.specChanged, generation: p.generation });
      else process.stdout.write(`${renderSpecPlan(p)}\n`);
      process.exitCode = hasChanges(p) ? 2 : 0;
    });
  });
}
