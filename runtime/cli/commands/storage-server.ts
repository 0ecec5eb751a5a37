import type { Command } from 'commander';
import type { StorageServerFlags } from '../../storage/storage-options.js';

/**
 * `sutra-grid storage-server --port N --storage-path DIR [--memory MB] [--host H] [--token-file F]
 * [--role leader|replica|standalone --leader HOST:PORT --term N --durability async|sync ...]`.
 * The implementation is imported lazily so other verbs do not pay for it; agents bypass the CLI
 * entirely and spawn the lean `dist/runtime/storage/main.js`.
 */
export function registerStorageServerCommand(program: Command): void {
  program
    .command('storage-server')
    .description('run the bundled storage server (durable concepts and associations over gRPC, with leader/replica replication)')
    .option('--port <n>', 'port to listen on (0 = ephemeral)')
    .option('--storage-path <dir>', 'directory holding the data log and term.json (created if missing)')
    .option('--memory <mb>', 'memory budget in MB; writes beyond it are refused (0 = unlimited)')
    .option('--host <host>', 'host to bind (non-loopback needs --token-file)', '127.0.0.1')
    .option('--token-file <file>', 'require this token on every storage call (a replica presents it to its leader)')
    .option('--drain-timeout <duration>', 'on stop, time for calls in flight before connections are closed (default 2s)')
    .option('--grid <name>', 'grid this node belongs to (reported in its replication status)')
    .option('--cluster <name>', 'cluster this node belongs to (reported in its replication status)')
    .option('--node-id <id>', 'this node\'s id; a replica identifies itself to its leader by it (required for a replica)')
    .option('--role <role>', 'standalone (no replication, the default), leader, or replica')
    .option('--leader <host:port>', 'the leader a replica follows')
    .option('--term <n>', 'leadership term of the role (default 1 for a leader or replica; term.json keeps the highest seen)')
    .option('--durability <mode>', 'async: a write is acknowledged once durable on the leader (default); sync: also on --sync-quorum replicas')
    .option('--sync-quorum <n>', 'replicas a sync write waits for (default 1)')
    .option('--sync-timeout <duration>', 'how long a sync write waits for its quorum before failing UNAVAILABLE (default 5s)')
    .action(async (opts: StorageServerFlags) => {
      const { runStorageServer } = await import('../../storage/run-storage-server.js');
      try {
        await runStorageServer(opts);
      } catch (err) {
        process.stderr.write(`storage-server: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
