import type { Command } from 'commander';
import { DEFAULT_MASTER_ADDRESS, loadTlsFiles, masterAddress, resolveToken, withMaster as withMasterClient, type MasterClient, type TlsMaterial } from '../../client/index.js';

/** The flags every client command shares (also accepted before the verb). */
export interface ClientFlags {
  readonly master?: string;
  readonly tokenFile?: string;
  readonly json?: boolean;
  readonly tlsDir?: string;
  readonly tlsCa?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
}

/** Resolved connection settings of a client command. */
export interface ClientSettings {
  /** host:port of the master. */
  readonly address: string;
  readonly token: string | undefined;
  readonly json: boolean;
  /** Mutual TLS credential (`--tls-dir`, or `--tls-ca`/`--tls-cert`/`--tls-key`; `$SUTRA_GRID_TLS_DIR`). */
  readonly tls: TlsMaterial | undefined;
}

/** Default master address when neither `--master` nor `$SUTRA_GRID_MASTER` is given. */
export const DEFAULT_MASTER = DEFAULT_MASTER_ADDRESS;

/** Adds `--master`, `--token-file` and `--json` to a command. */
export function addClientOptions(cmd: Command): Command {
  return cmd
    .option('--master <addr>', `master HOST:PORT or http://HOST:PORT (default $SUTRA_GRID_MASTER, else ${DEFAULT_MASTER})`)
    .option('--token-file <file>', 'file holding the shared token (default: $SUTRA_GRID_TOKEN as the token value)')
    .option('--json', 'machine-readable output')
    .option('--tls-dir <dir>', 'credential directory holding ca.pem, cert.pem, key.pem (default $SUTRA_GRID_TLS_DIR)')
    .option('--tls-ca <file>', 'grid CA certificate to trust (mutual TLS)')
    .option('--tls-cert <file>', 'this client\'s certificate')
    .option('--tls-key <file>', 'this client\'s private key');
}

/**
 * Merges the command's own flags over those given before the verb, then the environment.
 * @throws ConfigError naming `--token-file` when the file cannot be read.
 */
export function clientSettings(cmd: Command, env: NodeJS.ProcessEnv = process.env): ClientSettings {
  const root = rootOf(cmd).opts<ClientFlags>();
  const own = cmd.opts<ClientFlags>();
  const master = own.master ?? root.master ?? env['SUTRA_GRID_MASTER'] ?? DEFAULT_MASTER;
  return {
    address: masterAddress(master),
    token: resolveToken({ file: own.tokenFile ?? root.tokenFile }, env),
    json: Boolean(own.json ?? root.json),
    tls: loadTlsFiles({
      dir: own.tlsDir ?? root.tlsDir ?? env['SUTRA_GRID_TLS_DIR'],
      ca: own.tlsCa ?? root.tlsCa,
      cert: own.tlsCert ?? root.tlsCert,
      key: own.tlsKey ?? root.tlsKey,
    }),
  };
}

function rootOf(cmd: Command): Command {
  let c = cmd;
  while (c.parent) c = c.parent;
  return c;
}

/**
 * Runs `fn` with a master client built from the command's flags, closing it afterwards. Failures
 * are the client layer's ClientErrors; the entry point prints them as one line.
 */
export function withMaster<T>(cmd: Command, fn: (master: MasterClient, settings: ClientSettings) => Promise<T>): Promise<T> {
  const settings = clientSettings(cmd);
  return withMasterClient(settings, (master) => fn(master, settings));
}
