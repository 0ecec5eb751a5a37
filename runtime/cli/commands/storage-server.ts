import type { Command } from 'commander';

/**
 * `sutra-grid storage-server --port N --storage-path DIR [--memory MB] [--host H] [--token-file F]`.
 * The implementation is imported lazily so other verbs do not pay for it; agents bypass the CLI
 * entirely and spawn the lean `dist/runtime/storage/main.js`.
 */
export function registerStorageServerCommand(program: Command): void {
  program
    .command('storage-server')
    .description('run the bundled storage server (durable concepts and associations over gRPC)')
    .option('--port <n>', 'port to listen on (0 = ephemeral)')
    .option('--storage-path <dir>', 'directory holding the data log (created if missing)')
    .option('--memory <mb>', 'memory budget in MB; writes beyond it are refused (0 = unlimited)')
    .option('--host <host>', 'host to bind (non-loopback needs --token-file)', '127.0.0.1')
    .option('--token-file <file>', 'require this token on every storage call')
    .option('--drain-timeout <duration>', 'on stop, time for calls in flight before connections are closed (default 2s)')
    .action(async (opts: { port?: string; storagePath?: string; memory?: string; host?: string; tokenFile?: string; drainTimeout?: string }) => {
      const { runStorageServer } = await import('../../storage/run-storage-server.js');
      try {
        await runStorageServer(opts);
      } catch (err) {
        process.stderr.write(`storage-server: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
