import { RuntimeError } from '../errors.js';
import { resolveToken } from '../../client/transport.js';
import { runUntilSignal } from '../cli/run-until-signal.js';
import { compileStorageFlags, type StorageServerFlags } from './storage-options.js';
import { StorageServer } from './storage-server.js';
import { notifyReady, takeReadyFd } from './ready-notify.js';

/** The exact line printed once the server serves; agents and tests may wait for it. */
export function listeningLine(address: string, storagePath: string): string {
  return `storage-server listening on ${address} (storage ${storagePath})`;
}

/**
 * A bind refused because another process holds the port becomes PORT_IN_USE, so the entry point can
 * exit with its own code (exit-codes.ts) and the agent can move the node instead of restarting it.
 * grpc-js reports the refusal only in its message ("... listen EADDRINUSE: address already in use").
 */
function bindError(err: unknown, host: string, port: number): unknown {
  if (!(err instanceof Error) || !/\bEADDRINUSE\b/.test(err.message)) return err;
  return new RuntimeError('PORT_IN_USE', `port ${port} on ${host} is in use by another process`, { field: '--port' }, { cause: err });
}

/**
 * Runs a storage-server until SIGINT/SIGTERM: validates flags, starts, prints the listening line
 * on stdout, then drains and flushes on the signal. Throws (ConfigError etc.) on bad input, and
 * GridError PORT_IN_USE when another process holds the port; the caller turns that into one line on
 * stderr and an exit code (exit-codes.ts). A launcher that passed a readiness pipe (ready-notify.ts)
 * is told on it right after the listening line: start() resolves once health says SERVING.
 */
export async function runStorageServer(flags: StorageServerFlags): Promise<void> {
  const readyFd = takeReadyFd();
  const opts = { ...compileStorageFlags(flags), token: resolveToken({ file: flags.tokenFile }, {}), log: (line: string) => void process.stderr.write(`storage-server: ${line}\n`) };
  let server: StorageServer | undefined;
  await runUntilSignal(
    { run: () => server?.run() ?? Promise.resolve(), shutdown: () => server?.shutdown() ?? Promise.resolve() },
    async () => {
      try {
        server = await StorageServer.start(opts);
      } catch (err) {
        throw bindError(err, opts.host, opts.port);
      }
      process.stdout.write(`${listeningLine(server.address, opts.storagePath)}\n`);
      if (readyFd !== undefined) notifyReady(readyFd);
    },
  );
}
