import type { Command } from 'commander';
import { addClientOptions, withMaster } from '../client-flags.js';
import { printJson } from '../output.js';
import { addNodeRefOptions, checkNodeAgent, nodeIdOf, type NodeRefFlags } from './node-ref.js';

/**
 * `sutra-grid promote NODE_ID` (also `--node/-n NODE_ID`): a planned handover of its cluster's
 * leadership to a caught-up replica, losing no acknowledged write. One line either way; a refusal
 * (an unknown node, not a replica, not caught up in time) exits non-zero.
 */
export function registerPromoteCommand(program: Command): void {
  addClientOptions(
    addNodeRefOptions(program.command('promote').description('make a caught-up replica the leader of its cluster (planned handover, no data lost)'), 'promote'),
  ).action(async (nodeIdArg: string | undefined, opts: NodeRefFlags, cmd: Command) => {
    const nodeId = nodeIdOf(nodeIdArg, opts, 'sutra-grid promote NODE_ID (or --node NODE_ID)');
    await withMaster(cmd, async (master, { json }) => {
      await checkNodeAgent(master, nodeId, opts.agent);
      const r = await master.promoteNode(nodeId);
      if (json) return printJson(r);
      process.stdout.write(`${r.nodeId} is now the leader of cluster ${r.cluster} in term ${r.term} (took over from ${r.previousLeader} at log position ${r.logPosition})\n`);
    });
  });
}
