import type { Command } from 'commander';
import { addClientOptions, withMaster } from '../client-flags.js';
import { printJson } from '../output.js';
import { addNodeRefOptions, checkNodeAgent, nodeIdOf, type NodeRefFlags } from './node-ref.js';

/**
 * `sutra-grid restart NODE_ID` (also `--node/-n NODE_ID`): stops and starts the node in place
 * through its agent, with its data. A leader with a caught-up replica hands over first and comes
 * back as a replica.
 */
export function registerRestartCommand(program: Command): void {
  addClientOptions(
    addNodeRefOptions(program.command('restart').description('restart a storage node in place, keeping its data (a leader hands over first)'), 'restart'),
  ).action(async (nodeIdArg: string | undefined, opts: NodeRefFlags, cmd: Command) => {
    const nodeId = nodeIdOf(nodeIdArg, opts, 'sutra-grid restart NODE_ID (or --node NODE_ID)');
    await withMaster(cmd, async (master, { json }) => {
      await checkNodeAgent(master, nodeId, opts.agent);
      const { node, handedOverTo } = await master.restartNode(nodeId);
      if (json) return printJson({ nodeId: node.nodeId, agentId: node.agentId, status: node.status, pid: node.pid, port: node.port, handedOverTo });
      const handed = handedOverTo !== '' ? `; ${handedOverTo} leads its cluster now` : '';
      process.stdout.write(`node ${node.nodeId} restarted on agent ${node.agentId}: ${node.status} (pid ${node.pid}, port ${node.port})${handed}\n`);
    });
  });
}
