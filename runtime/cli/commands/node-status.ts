import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { addClientOptions, withMaster } from '../master-client.js';
import { printFields, printJson } from '../output.js';

/**
 * `sutra-grid node-status NODE_ID`: live from the node's agent. When the agent cannot be reached the
 * master's last known value is shown, flagged stale (`"stale": true` in JSON, present only then).
 */
export function registerNodeStatusCommand(program: Command): void {
  addClientOptions(
    program
      .command('node-status')
      .description("show one node's status (live from its agent)")
      .argument('[nodeId]', 'node to show')
      .option('--node-id <id>', 'node to show (instead of the argument)'),
  ).action(async (nodeIdArg: string | undefined, opts: { nodeId?: string }, cmd: Command) => {
    const nodeId = nodeIdArg ?? opts.nodeId;
    if (!nodeId) throw new ConfigError('nodeId', 'is required: sutra-grid node-status NODE_ID');
    await withMaster(cmd, async (conn, { json }) => {
      const { node, stale } = await conn.call('getStorageNodeStatus', { nodeId });
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
