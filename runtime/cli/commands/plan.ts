import type { Command } from 'commander';
import { hasChanges, renderSpecPlan, specDiffers, type SpecPlan } from '../../../plan/index.js';
import type { MasterClient } from '../../../client/index.js';
import { addClientOptions, withMaster } from '../client-flags.js';
import { printJson } from '../output.js';
import { loadSpecForCommand, type LoadedSpec } from '../spec-file.js';

export { hasChanges, renderSpecPlan, type SpecPlan };

/** Plans `spec` against the master: the dry-run plan and whether the stored spec would change. */
export async function planSpec(master: MasterClient, spec: LoadedSpec): Promise<SpecPlan> {
  const current = await master.getSpec();
  const { plan } = await master.applySpec(spec.json, undefined, true);
  return { plan, generation: current.generation, specChanged: specDiffers(current.specJson, spec.input) };
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
