import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { addClientOptions, withMaster } from '../master-client.js';
import { printJson } from '../output.js';
import { intFlag } from './parse-flags.js';

/** `sutra-grid stop NODE_ID [--grace MS]`: SIGTERM, then SIGKILL after the grace period. */
export function registerStopCommand(program: Command): void {
  addClientOptions(
    program
      .command('stop')
      .description('stop a storage node')
      .argument('[nodeId]', 'node to stop')
      .option('--node-id <id>', 'node to stop (instead of the argument)')
      .option('--grace <ms>', "milliseconds between SIGTERM and SIGKILL; omitted = the agent's default"),
  ).action(async (nodeIdArg: string | undefined, opts: { nodeId?: string; grace?: string }, cmd: Command) => {
    const nodeId = nodeIdArg ?? opts.nodeId;
    if (!nodeId) throw new ConfigError('nodeId', 'is required: sutra-grid stop NODE_ID');
    const graceMs = intFlag(opts.grace, '--grace', 0);
    await withMaster(cmd, async (conn, { json }) => {
      const { node } = await conn.call('stopStorageNode', { nodeId, graceMs }, 15_000 + graceMs);
      const view = { nodeId: node?.nodeId ?? nodeId, agentId: node?.agentId ?? '', status: node?.status ?? '', lastExit: node?.lastExit ?? '' };
      if (json) return printJson(view);
      process.stdout.write(`node ${view.nodeId} on agent ${view.agentId} is ${view.status}${view.lastExit ? ` (${view.lastExit})` : ''}\n`);
    });
  });
}
