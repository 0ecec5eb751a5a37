import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { parseDuration } from '../../../schema/index.js';
import { ConfigError, RuntimeError } from '../../errors.js';
import { waitConverged } from '../../../client/index.js';
import { addClientOptions, withMaster } from '../client-flags.js';
import { nodeProgress } from '../node-progress.js';
import { printJson } from '../output.js';
import { loadSpecForCommand } from '../spec-file.js';
import { hasChanges, planSpec, renderSpecPlan } from './plan.js';

interface ApplyFlags {
  readonly autoApprove?: boolean;
  readonly timeout?: string;
  readonly wait?: boolean;
}

/** Asks on the terminal, terraform-style; only "yes" proceeds. */
async function confirm(): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question('\nDo you want to perform these actions? Only "yes" will be accepted: ');
    return answer.trim() === 'yes';
  } finally {
    rl.close();
  }
}

/**
 * `sutra-grid apply FILE [--auto-approve] [--timeout 5m] [--no-wait]`: plan, confirm, apply with
 * the planned generation as expected_generation, then wait until converged.
 */
export function registerApplyCommand(program: Command): void {
  addClientOptions(
    program
      .command('apply')
      .description('apply a grid.yaml to the master and wait until the grid converges')
      .argument('<file>', 'grid spec (YAML)')
      .option('--auto-approve', 'do not ask for confirmation')
      .option('--timeout <duration>', 'how long to wait for convergence', '5m')
      .option('--no-wait', 'return once the spec is stored'),
  ).action(async (file: string, opts: ApplyFlags, cmd: Command) => {
    const timeoutMs = parseTimeout(opts.timeout ?? '5m');
    const spec = await loadSpecForCommand(file);
    await withMaster(cmd, async (master, { json }) => {
      const planned = await planSpec(master, spec);
      const say = (line: string): void => {
        (json ? process.stderr : process.stdout).write(`${line}\n`);
      };
      say(renderSpecPlan(planned));
      if (hasChanges(planned) && opts.autoApprove !== true) {
        if (!process.stdin.isTTY) throw new ConfigError('--auto-approve', 'is required when stdin is not a terminal');
        if (!(await confirm())) throw new RuntimeError('INVALID_ARGUMENT', 'apply cancelled; nothing was changed');
      }
      const applied = await master.applySpec(spec.json, planned.generation);
      if (applied.changed) say(`Spec stored as generation ${applied.generation}.`);
      if (opts.wait === false) {
        if (json) printJson({ generation: applied.generation, changed: applied.changed, converged: null });
        return;
      }
      // The spec was sent once; the wait only reads the grid.
      const result = await waitConverged(master, applied.generation, { timeoutMs, onView: nodeProgress((line) => say(`  ${line}`), applied.generation) });
      if (json) printJson({ generation: applied.generation, changed: applied.changed, converged: result.done, remaining: result.remaining, ...(result.failed !== undefined ? { failed: result.failed } : {}) });
      if (result.failed !== undefined) throw new RuntimeError('ROLLOUT_FAILED', result.failed);
      if (!result.done) {
        throw new RuntimeError('DEADLINE_EXCEEDED', `not converged after ${opts.timeout}: ${result.remaining.join('; ')}`);
      }
      say(`Apply complete. The grid matches ${file} (generation ${applied.generation}).`);
    });
  });
}

function parseTimeout(text: string): number {
  try {
    return parseDuration(text, '--timeout');
  } catch (err) {
    throw new ConfigError('--timeout', `must be a duration like 30s or 5m, got "${text}"`, { cause: err });
  }
}
