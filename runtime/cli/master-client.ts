import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Command } from 'commander';
import { GridMasterClient } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { clientChannelOptions, insecureCredentials, unary } from '../../client/transport.js';
import { checkSpecSize } from '../../client/transport.js';
import { resolveToken } from '../../client/transport.js';
import { DEFAULT_MASTER_ADDRESS, masterAddress } from '../../client/transport.js';

/** The flags every client command shares (also accepted before the verb). */
export interface ClientFlags {
  readonly master?: string;
  readonly tokenFile?: string;
  readonly json?: boolean;
}

/** Resolved connection settings of a client command. */
export interface ClientSettings {
  /** host:port of the master. */
  readonly address: string;
  readonly token: string | undefined;
  readonly json: boolean;
}

/** Default master address when neither `--master` nor `$SUTRA_GRID_MASTER` is given. */
export const DEFAULT_MASTER = DEFAULT_MASTER_ADDRESS;

/** Adds `--master`, `--token-file` and `--json` to a command. */
export function addClientOptions(cmd: Command): Command {
  return cmd
    .option('--master <addr>', `master HOST:PORT or http://HOST:PORT (default $SUTRA_GRID_MASTER, else ${DEFAULT_MASTER})`)
    .option('--token-file <file>', 'file holding the shared token (default: $SUTRA_GRID_TOKEN as the token value)')
    .option('--json', 'machine-readable output');
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
    token: resolveToken(own.tokenFile ?? root.tokenFile, env),
    json: Boolean(own.json ?? root.json),
  };
}

function rootOf(cmd: Command): Command {
  let c = cmd;
  while (c.parent) c = c.parent;
  return c;
}

/** Default deadline of one CLI call (ms). */
export const CLI_CALL_TIMEOUT_MS = 15_000;

/** Method names of the GridMaster client that are unary calls. */
type UnaryName = {
  [K in keyof GridMasterClient]: GridMasterClient[K] extends (req: infer _R, md: never, opts: never, cb: never) => unknown ? K : never;
}[keyof GridMasterClient];

type RequestOf<K extends UnaryName> = Parameters<GridMasterClient[K]>[0];
type ResponseOf<K extends UnaryName> = Parameters<GridMasterClient[K]> extends [unknown, ...unknown[], infer CB]
  ? CB extends (err: never, res: infer R) => void
    ? R
    : never
  : never;

/**
 * A connection to the master for one CLI invocation: calls carry the token and a deadline; gRPC
 * errors are left as they are (the entry point formats them as one line).
 */
export class MasterConnection {
  private readonly client: GridMasterClient;

  constructor(readonly settings: ClientSettings) {
    this.client = new GridMasterClient(settings.address, insecureCredentials, clientChannelOptions());
  }

  /** Calls one unary RPC, e.g. `call('listAgents', {})`. */
  call<K extends UnaryName>(method: K, request: RequestOf<K>, timeoutMs = CLI_CALL_TIMEOUT_MS): Promise<ResponseOf<K>> {
    // An oversized spec is refused here with the limit named, not by the transport.
    if (method === 'applySpec') checkSpecSize((request as { specJson: string }).specJson);
    const fn = this.client[method] as unknown as Parameters<typeof unary<RequestOf<K>, ResponseOf<K>>>[0];
    return unary(fn, this.client, request, this.settings.token, timeoutMs);
  }

  /** Closes the channel. */
  close(): void {
    this.client.close();
  }
}

/** Runs `fn` with a connection built from the command's flags, closing it afterwards. */
export async function withMaster<T>(cmd: Command, fn: (conn: MasterConnection, settings: ClientSettings) => Promise<T>): Promise<T> {
  const settings = clientSettings(cmd);
  const conn = new MasterConnection(settings);
  try {
    return await fn(conn, settings);
  } catch (err) {
    throw explainUnreachable(err, settings.address);
  } finally {
    conn.close();
  }
}

/** Client-side connection failures (not the master's own UNAVAILABLE answers) name the address. */
function explainUnreachable(err: unknown, address: string): unknown {
  const e = err as { code?: unknown; details?: unknown };
  if (e?.code !== GrpcStatus.UNAVAILABLE || typeof e.details !== 'string') return err;
  // The master's own UNAVAILABLE answers (an agent it could not reach) name that agent first.
  if (e.details.startsWith('agent "')) return err;
  if (!/No connection established|ECONNREFUSED|ECONNRESET|Connection dropped|getaddrinfo|Failed to connect/i.test(e.details)) return err;
  return Object.assign(err as object, { details: `cannot reach the master at ${address}: ${e.details}` });
}
