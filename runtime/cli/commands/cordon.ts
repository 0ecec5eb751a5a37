import type { Command } from 'commander';
import { cordonedBy, type CordonOutcome } from '../../../client/index.js';
import { addClientOptions, withMaster } from '../client-flags.js';
import { printJson } from '../output.js';

/**
 * `sutra-grid cordon AGENT [--reason TEXT]` and `sutra-grid uncordon AGENT`: no new nodes on the
 * agent (its nodes stay), and back. One line on success; an agent that stays cordoned because the
 * spec says so is an error line and exit 1, as the operator's intent was not met.
 */
export function registerCordonCommands(program: Command): void {
  addClientOptions(
    program
      .command('cordon')
      .description('place no new nodes on an agent (its nodes stay); kept by the master across restarts')
      .argument('<agent>', 'agent id')
      .option('--reason <text>', 'why, shown in list-agents and the AgentCordoned event (at most 256 characters)'),
  ).action(async (agentId: string, opts: { reason?: string }, cmd: Command) => {
    await withMaster(cmd, async (master, { json }) => {
      const outcome = await master.cordonAgent(agentId, opts.reason ?? '');
      if (json) return printJson(view(agentId, outcome));
      const why = outcome.cordon?.reason ? ` (${outcome.cordon.reason})` : '';
      const already = outcome.changed ? '' : ' (already)';
      process.stdout.write(`agent ${agentId} cordoned${why}${already}: no new nodes are placed on it, its nodes stay\n`);
    });
  });

  addClientOptions(
    program.command('uncordon').description("lift the operator's cordon of an agent: it takes new nodes again").argument('<agent>', 'agent id'),
  ).action(async (agentId: string, _opts: unknown, cmd: Command) => {
    await withMaster(cmd, async (master, { json }) => {
      const outcome = await master.uncordonAgent(agentId);
      if (json) printJson(view(agentId, outcome));
      if (outcome.cordon?.bySpec === true) {
        process.stderr.write(`error: agent ${agentId} is still cordoned: the applied spec declares it (agents[].cordoned); remove that and apply to uncordon it\n`);
        process.exitCode = 1;
        return;
      }
      if (json) return;
      process.stdout.write(`agent ${agentId} uncordoned${outcome.changed ? '' : ' (it was not cordoned)'}: it takes new nodes again\n`);
    });
  });
}

function view(agentId: string, o: CordonOutcome): unknown {
  return { agentId, cordoned: o.cordon !== undefined, by: cordonedBy(o.cordon), reason: o.cordon?.reason ?? '', changed: o.changed };
}
