import type { Command } from 'commander';
import { addClientOptions, withMaster } from '../client-flags.js';
import { printFields, printJson } from '../output.js';
import { addNodeRefOptions, checkNodeAgent, nodeIdOf, type NodeRefFlags } from './node-ref.js';

/**
 * `sutra-grid node-status NODE_ID` (also `--node/-n NODE_ID`, `--node-id`): live from the node's agent. When the agent cannot be reached the
 * master's last known value is shown, flagged stale (`"stale": true` in JSON, present only then).
 */
export function registerNodeStatusCommand(program: Command): void {
  addClientOptions(
    addNodeRefOptions(program.command('node-status').description("show one node's status (live from its agent)"), 'show'),
  ).action(async (nodeIdArg: string | undefined, opts: NodeRefFlags, cmd: Command) => {
    const nodeId = nodeIdOf(nodeIdArg, opts, 'sutra-grid node-status NODE_ID (or --node NODE_ID)');
    await withMaster(cmd, async (master, { json }) => {
      await checkNodeAgent(master, nodeId, opts.agent);
      const { node, stale } = await master.call('getStorageNodeStatus', { nodeId });
      const view = {
        nodeId: node?.nodeId ?? nodeId,
        agentId: node?.agentId ?? '',
        port: node?.port ?? 0,
        pid: node?.pid ?? 0,
        status: node?.status ?? '',
        restarts: node?.restarts ?? 0,
        ...(stale ? { stale: true } : {}),
      };
      if (json) return printJson(view);
      printFields([
        ['node', view.nodeId],
        ['agent', view.agentId],
        ['status', stale ? `${view.status} (stale: the agent could not be reached)` : view.status],
        ['port', view.port],
        ['pid', view.pid || '-'],
        ['restarts', view.restarts],
        ['storage path', node?.storagePath ?? ''],
        ['last exit', node?.lastExit || '-'],
      ]);
    });
  });
}
