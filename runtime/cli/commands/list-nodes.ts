import type { Command } from 'commander';
import { addClientOptions, withMaster } from '../client-flags.js';
import { printJson, printTable } from '../output.js';
import { nodeListJson } from '../../../client/index.js';

/**
 * `sutra-grid list-nodes [--agent ID] [--cluster NAME]`: the master's view of every node. ROLE is
 * the role the master assigns; TERM and POSITION (records in the node's log) are what a leader or
 * replica last reported, '-' for a node without replication.
 */
export function registerListNodesCommand(program: Command): void {
  addClientOptions(
    program
      .command('list-nodes')
      .description('list storage nodes as last reported by their agents')
      .option('--agent <id>', 'only nodes of this agent')
      .option('--cluster <name>', 'only nodes of this declared cluster'),
  ).action(async (opts: { agent?: string; cluster?: string }, cmd: Command) => {
    await withMaster(cmd, async (master, { json }) => {
      const nodes = await master.listNodes({ agentId: opts.agent ?? '', cluster: opts.cluster ?? '' });
      if (json) {
        return printJson({ nodes: nodes.map(nodeListJson) });
      }
      printTable(
        ['node', 'agent', 'status', 'role', 'term', 'position', 'port', 'pid', 'restarts', 'cluster', 'storage path'],
        nodes.map((n) => [
          n.nodeId,
          n.agentId,
          n.status,
          n.role || '-',
          n.replication?.term ?? '-',
          n.replication?.logPosition ?? '-',
          n.port,
          n.pid || '-',
          n.restarts,
          n.cluster || '-',
          n.storagePath,
        ]),
        '(no nodes)',
      );
    });
  });
}
