import type { Command } from 'commander';
import { addClientOptions, withMaster } from '../client-flags.js';
import { formatAge, printJson, printTable } from '../output.js';

/** `sutra-grid list-agents`: every registered agent with its health and node count. */
export function registerListAgentsCommand(program: Command): void {
  addClientOptions(program.command('list-agents').description('list registered agents')).action(async (_opts, cmd: Command) => {
    await withMaster(cmd, async (master, { json }) => {
      const { agents } = await master.call('listAgents', {});
      if (json) {
        return printJson({
          agents: agents.map((a) => ({
            id: a.info?.agentId ?? '',
            status: a.health,
            platform: a.info?.platform ?? '',
            maxNodes: a.info?.capacity?.maxNodes ?? 0,
            nodes: a.nodes.length,
          })),
        });
      }
      printTable(
        ['id', 'status', 'platform', 'address', 'nodes', 'max', 'last heartbeat'],
        agents.map((a) => [
          a.info?.agentId ?? '',
          a.health,
          a.info?.platform ?? '',
          a.info?.address ?? '',
          a.nodes.length,
          a.info?.capacity?.maxNodes ?? 0,
          formatAge(a.lastHeartbeatMs),
        ]),
        '(no agents registered)',
      );
    });
  });
}
