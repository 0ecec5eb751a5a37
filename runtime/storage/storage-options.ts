import { ConfigError } from '../errors.js';
import { durationFlag, intFlag } from './flag-values.js';
import { compileReplicationFlags, type ReplicationFlags, type ReplicationOptions } from './replication-options.js';

/** Default of `--drain-timeout`: well inside the agent's SIGTERM-to-SIGKILL grace. */
export const DEFAULT_DRAIN_MS = 2000;

/** Storage-server flags as given on the command line (strings, all optional until checked). */
export interface StorageServerFlags extends ReplicationFlags {
  readonly port?: string | undefined;
  readonly storagePath?: string | undefined;
  readonly memory?: string | undefined;
  readonly host?: string | undefined;
  readonly tokenFile?: string | undefined;
  readonly drainTimeout?: string | undefined;
  readonly tlsDir?: string | undefined;
  readonly agentId?: string | undefined;
}

/** Checked storage-server options. */
export interface StorageServerOptions {
  /** 0 binds an ephemeral port (tests). */
  readonly port: number;
  /** Directory holding the append-only log (and term.json); created when missing. */
  readonly storagePath: string;
  /** Advisory memory budget (MB); the server refuses writes that would exceed it. 0 = unlimited. */
  readonly memoryMb: number;
  /** @default '127.0.0.1' */
  readonly host: string;
  /** Token required on every storage call, when set; a replica presents it to its leader. The health service stays open. */
  readonly token?: string | undefined;
  /**
   * On a stop, how long calls in flight may finish before the remaining connections are closed:
   * a stalled client (paused process, dead network path) must not hold the stop. @default 2000
   */
  readonly drainMs?: number;
  /**
   * Directory of the node's credential (`ca.pem`, `cert.pem`, `key.pem`, written by its agent):
   * with it the node speaks mutual TLS only, takes renewed certificates without a restart, and may
   * listen beyond loopback. @default none (plaintext, loopback unless a token is given)
   */
  readonly tlsDir?: string | undefined;
  /** With `tlsDir`: the agent running the node, the only one whose certificate may drive it (StorageControl). @default any agent */
  readonly agentId?: string | undefined;
  /** Role, leader, term and durability. @default standalone (no replication) */
  readonly replication?: ReplicationOptions;
  /** Where the server's few lines go (role changes, replication trouble). @default nowhere */
  readonly log?: (line: string) => void;
}

/** Validates storage-server flags; every refusal names the flag. The token is resolved by the caller. */
export function compileStorageFlags(flags: StorageServerFlags): Omit<StorageServerOptions, 'token' | 'log'> {
  if (flags.port === undefined) throw new ConfigError('--port', 'is required');
  if (flags.storagePath === undefined || flags.storagePath.trim() === '') throw new ConfigError('--storage-path', 'is required');
  const host = flags.host ?? '127.0.0.1';
  if (host.trim() === '' || /[\s/]/.test(host)) throw new ConfigError('--host', `invalid host "${host}"`);
  return {
    port: intFlag(flags.port, '--port', 0, 65535),
    storagePath: flags.storagePath,
    memoryMb: flags.memory === undefined ? 0 : intFlag(flags.memory, '--memory', 0, 1_048_576),
    host,
    drainMs: flags.drainTimeout === undefined ? DEFAULT_DRAIN_MS : durationFlag(flags.drainTimeout, '--drain-timeout', 0, 60_000),
    replication: compileReplicationFlags(flags),
    ...(flags.tlsDir !== undefined ? { tlsDir: tlsDirFlag(flags.tlsDir) } : {}),
    ...(flags.agentId !== undefined ? { agentId: agentIdFlag(flags.agentId, flags.tlsDir) } : {}),
  };
}

/** The agent running this node: with TLS, the only agent certificate its StorageControl accepts. */
function agentIdFlag(value: string, tlsDir: string | undefined): string {
  if (tlsDir === undefined) throw new ConfigError('--agent-id', 'is given only with --tls-dir (it names the one agent certificate the node accepts)');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(value)) throw new ConfigError('--agent-id', `must be 1-128 letters, digits, dots, dashes or underscores, got ${JSON.stringify(value.slice(0, 40))}`);
  return value;
}

function tlsDirFlag(value: string): string {
  if (value.trim() === '') throw new ConfigError('--tls-dir', 'must name a directory');
  return value;
}

const FLAG_NAMES: Record<string, keyof StorageServerFlags> = {
  '--port': 'port',
  '--storage-path': 'storagePath',
  '--memory': 'memory',
  '--host': 'host',
  '--token-file': 'tokenFile',
  '--drain-timeout': 'drainTimeout',
  '--tls-dir': 'tlsDir',
  '--agent-id': 'agentId',
  '--grid': 'grid',
  '--cluster': 'cluster',
  '--node-id': 'nodeId',
  '--role': 'role',
  '--leader': 'leader',
  '--term': 'term',
  '--durability': 'durability',
  '--sync-quorum': 'syncQuorum',
  '--sync-timeout': 'syncTimeout',
  '--write-lease-until': 'writeLeaseUntil',
};

/**
 * Parses `--flag value` / `--flag=value` argv without commander: the lean entry point must start
 * fast because agents spawn one per node.
 */
export function parseStorageArgv(argv: readonly string[]): StorageServerFlags {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const key = FLAG_NAMES[name];
    if (key === undefined) throw new ConfigError(name.slice(0, 64), `unknown option (expected ${Object.keys(FLAG_NAMES).join(', ')})`);
    let value: string | undefined;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      i++;
    }
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new ConfigError(name, 'expects a value');
    out[key] = value;
  }
  return out as StorageServerFlags;
}
