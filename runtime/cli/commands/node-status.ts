import type { Command } from 'commander';
import { addClientOptions, withMaster } from '../client-flags.js';
import { nodeFromWire, type GridNodeReplication as NodeReplication } from '../../../client/index.js';
import { printFields, printJson } from '../output.js';
import { addNodeRefOptions, checkNodeAgent, nodeIdOf, type NodeRefFlags } from './node-ref.js';

/** The role, and the node's own view when it differs (a leader that stepped down, a replica following). */
function replicationLine(role: string, r: NodeReplication | undefined): string {
  if (r === undefined) return role || '-';
  const own = r.role !== role && role !== '' ? ` (the node reports ${r.role})` : '';
  return `${role || r.role}${own}${r.role === 'replica' && r.leader !== '' ? `, following ${r.leader}` : ''}`;
}

/** A replica's position beside its leader's. */
function positionLine(r: NodeReplication): string {
  if (r.role !== 'replica') return String(r.logPosition);
  return `${r.logPosition} of ${r.leaderLogPosition}${r.catchingUp ? ' (catching up)' : ''}${r.connected ? '' : ' (not connected to its leader)'}`;
}

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
      const answer = await master.call('getStorageNodeStatus', { nodeId });
      const stale = answer.stale;
      const node = answer.node !== undefined ? nodeFromWire(answer.node) : undefined;
      const view = {
        nodeId: node?.nodeId ?? nodeId,
        agentId: node?.agentId ?? '',
        port: node?.port ?? 0,
        pid: node?.pid ?? 0,
        status: node?.status ?? '',
        restarts: node?.restarts ?? 0,
        role: node?.role ?? '',
        term: node?.replication?.term ?? 0,
        logPosition: node?.replication?.logPosition ?? 0,
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
        ['role', replicationLine(node?.role ?? '', node?.replication)],
        ['term', node?.replication !== undefined ? view.term : '-'],
        ['position', node?.replication !== undefined ? positionLine(node.replication) : '-'],
        ['storage path', node?.storagePath ?? ''],
        ['last exit', node?.lastExit || '-'],
      ]);
    });
  });
}
