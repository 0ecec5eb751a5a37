import type { Command } from 'commander';
import { addClientOptions, withMaster } from '../client-flags.js';
import { printJson } from '../output.js';
import { addNodeRefOptions, checkNodeAgent, nodeIdOf, type NodeRefFlags } from './node-ref.js';
import { intFlag } from './parse-flags.js';

/**
 * `sutra-grid stop NODE_ID [--grace MS]`, also `stop --node NODE [--agent AGENT]` and
 * `stop -n NODE -a AGENT`: SIGTERM, then SIGKILL after the grace period.
 */
export function registerStopCommand(program: Command): void {
  addClientOptions(
    addNodeRefOptions(program.command('stop').description('stop a storage node'), 'stop').option(
      '--grace <ms>',
      "milliseconds between SIGTERM and SIGKILL; omitted = the agent's default",
    ),
  ).action(async (nodeIdArg: string | undefined, opts: NodeRefFlags & { grace?: string }, cmd: Command) => {
    const nodeId = nodeIdOf(nodeIdArg, opts, 'sutra-grid stop NODE_ID (or --node NODE_ID)');
    const graceMs = intFlag(opts.grace, '--grace', 0);
    await withMaster(cmd, async (master, { json }) => {
      await checkNodeAgent(master, nodeId, opts.agent);
      const { node } = await master.call('stopStorageNode', { nodeId, graceMs }, 15_000 + graceMs);
      const view = { nodeId: node?.nodeId ?? nodeId, agentId: node?.agentId ?? '', status: node?.status ?? '', lastExit: node?.lastExit ?? '' };
      if (json) return printJson(view);
      process.stdout.write(`node ${view.nodeId} on agent ${view.agentId} is ${view.status}${view.lastExit ? ` (${view.lastExit})` : ''}\n`);
    });
  });
}
