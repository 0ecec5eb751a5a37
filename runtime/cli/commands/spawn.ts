import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { addClientOptions, withMaster } from '../client-flags.js';
import { printJson } from '../output.js';
import { intFlag, oneOf } from './parse-flags.js';

/** Spawn waits for the agent (30 s deadline on the master's side) plus retries. */
const SPAWN_TIMEOUT_MS = 40_000;

/**
 * `sutra-grid spawn --agent ID [--port N] [--memory MB] [--storage-path P] [--node ID]`; the short
 * forms of the design documents (`spawn -a agent-001 -p 50051`) too.
 */
export function registerSpawnCommand(program: Command): void {
  addClientOptions(
    program
      .command('spawn')
      .description('start a storage node on an agent')
      .option('-a, --agent <id>', 'agent to run the node on (required)')
      .option('-p, --port <n>', 'node port; 0 or omitted = a free port picked by the agent')
      .option('--memory <mb>', 'memory budget in MB; omitted = the agent default')
      .option('--storage-path <path>', "data directory under the agent's data dir; omitted = one is picked")
      .option('-n, --node <id>', 'node id; omitted = generated')
      .option('--node-id <id>', 'same as --node'),
  ).action(async (opts: { agent?: string; port?: string; memory?: string; storagePath?: string; node?: string; nodeId?: string }, cmd: Command) => {
    if (!opts.agent) throw new ConfigError('--agent', 'is required (the agent to spawn on)');
    const request = {
      agentId: opts.agent,
      port: intFlag(opts.port, '--port', 0, 0, 65535),
      memoryMb: intFlag(opts.memory, '--memory', 0),
      storagePath: opts.storagePath ?? '',
      nodeId: oneOf([
        ['--node', opts.node],
        ['--node-id', opts.nodeId],
      ]) ?? '',
    };
    await withMaster(cmd, async (master, { json }) => {
      const { node } = await master.call('spawnStorageNode', request, SPAWN_TIMEOUT_MS);
      const view = { nodeId: node?.nodeId ?? '', agentId: node?.agentId ?? '', port: node?.port ?? 0, pid: node?.pid ?? 0, status: node?.status ?? '' };
      if (json) return printJson(view);
      process.stdout.write(`node ${view.nodeId} ${view.status} on agent ${view.agentId} (port ${view.port}, pid ${view.pid})\n`);
    });
  });
}
