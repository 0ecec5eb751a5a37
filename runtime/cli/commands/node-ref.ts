import type { Command } from 'commander';
import { ConfigError, RuntimeError } from '../../errors.js';
import type { MasterClient } from '../../../client/index.js';
import { oneOf } from './parse-flags.js';

/**
 * How the node-addressing commands (`stop`, `node-status`) name their node: `stop NODE`,
 * `--node-id NODE`, or the design documents' `--node/-n NODE`, optionally with `--agent/-a AGENT`,
 * which checks that the node is on that agent before acting.
 */
export interface NodeRefFlags {
  readonly node?: string;
  readonly nodeId?: string;
  readonly agent?: string;
}

/** Adds `-n/--node`, `--node-id` and `-a/--agent` to a command that takes `[nodeId]`. */
export function addNodeRefOptions(cmd: Command, verb: string): Command {
  return cmd
    .argument('[nodeId]', `node to ${verb}`)
    .option('-n, --node <id>', `node to ${verb} (instead of the argument)`)
    .option('--node-id <id>', 'same as --node')
    .option('-a, --agent <id>', 'the agent the node must be on; refused when it is elsewhere');
}

/**
 * The node the command names.
 * @throws ConfigError when none is given, or two sources name different nodes.
 */
export function nodeIdOf(arg: string | undefined, flags: NodeRefFlags, usage: string): string {
  const nodeId = oneOf([
    ['nodeId', arg],
    ['--node', flags.node],
    ['--node-id', flags.nodeId],
  ]);
  if (nodeId === undefined) throw new ConfigError('nodeId', `is required: ${usage}`);
  return nodeId;
}

/**
 * With `--agent`, makes sure the master places `nodeId` on that agent, so that `stop -n X -a A`
 * never stops a node of another agent. A node the master does not know is left to the command's
 * own call, which reports it (NODE_NOT_FOUND).
 * @throws GridError NODE_NOT_FOUND when the node is on another agent.
 */
export async function checkNodeAgent(master: MasterClient, nodeId: string, agentId: string | undefined): Promise<void> {
  if (agentId === undefined || agentId === '') return;
  const nodes = await master.listNodes();
  const copies = nodes.filter((n) => n.nodeId === nodeId);
  if (copies.length === 0 || copies.some((n) => n.agentId === agentId)) return;
  const where = [...new Set(copies.map((n) => `"${n.agentId}"`))].join(', ');
  throw new RuntimeError('NODE_NOT_FOUND', `node "${nodeId}" is not on agent "${agentId}" (it is on ${where})`, { nodeId, agentId });
}
