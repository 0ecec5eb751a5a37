import { resolveToken } from '../common/token.js';
import { runUntilSignal } from '../cli/run-until-signal.js';
import { compileStorageFlags, type StorageServerFlags } from './storage-options.js';
import { StorageServer } from './storage-server.js';

/** The exact line printed once the server serves; agents and tests may wait for it. */
export function listeningLine(address: string, storagePath: string): string {
  return `storage-server listening on ${address} (storage ${storagePath})`;
}

/**
 * Runs a storage-server until SIGINT/SIGTERM: validates flags, starts, prints the listening line
 * on stdout, then drains and flushes on the signal. Throws (ConfigError etc.) on bad input; the
 * caller turns that into one line on stderr and exit 1.
 */
export async function runStorageServer(flags: StorageServerFlags): Promise<void> {
  const opts = { ...compileStorageFlags(flags), token: resolveToken(flags.tokenFile, {}) };
  let server: StorageServer | undefined;
  await runUntilSignal(
    { run: () => server?.run() ?? Promise.resolve(), shutdown: () => server?.shutdown() ?? Promise.resolve() },
    async () => {
      server = await StorageServer.start(opts);
      process.stdout.write(`${listeningLine(server.address, opts.storagePath)}\n`);
    },
  );
}
