import type { Command } from 'commander';
import { cordonedBy, cordonFromWire, drainState } from '../../../client/index.js';
import { addClientOptions, withMaster } from '../client-flags.js';
import { formatAge, printJson, printTable } from '../output.js';

/** A reason longer than this is cut in the table (`--json` has it whole). */
const REASON_CHARS = 40;

/** `sutra-grid list-agents`: every registered agent with its health, cordon (or drain) and node count. */
export function registerListAgentsCommand(program: Command): void {
  addClientOptions(program.command('list-agents').description('list registered agents')).action(async (_opts, cmd: Command) => {
    await withMaster(cmd, async (master, { json }) => {
      const { agents } = await master.call('listAgents', {});
      const rows = agents.map((a) => ({ a, cordon: cordonFromWire(a.cordon) }));
      if (json) {
        return printJson({
          agents: rows.map(({ a, cordon }) => ({
            id: a.info?.agentId ?? '',
            status: a.health,
            cordoned: cordon !== undefined,
            cordonedBy: cordonedBy(cordon),
            cordonReason: cordon?.reason ?? '',
            drain: drainState(cordon),
            drainDeadlineMs: cordon?.drainDeadlineMs ?? 0,
            platform: a.info?.platform ?? '',
            maxNodes: a.info?.capacity?.maxNodes ?? 0,
            nodes: a.nodes.length,
          })),
        });
      }
      printTable(
        ['id', 'status', 'cordoned', 'platform', 'address', 'nodes', 'max', 'last heartbeat'],
        rows.map(({ a, cordon }) => [
          a.info?.agentId ?? '',
          a.health,
          cordonCell(cordonedBy(cordon).replace('operator', drainState(cordon) || 'operator'), cordon?.reason ?? ''),
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

/** `-`, `spec`, `operator (reason)`, `spec+operator (reason)`; `draining` or `drained` in place of `operator` for a drain. */
function cordonCell(by: string, reason: string): string {
  if (by === '') return '-';
  if (reason === '') return by;
  const cut = [...reason].length > REASON_CHARS ? `${[...reason].slice(0, REASON_CHARS - 3).join('')}...` : reason;
  return `${by} (${cut})`;
}
