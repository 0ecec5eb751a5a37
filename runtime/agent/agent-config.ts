import type { TlsSource } from '../../client/transport.js';
import { hasAgentCredential } from './agent-tls.js';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { ConfigError, RuntimeError } from '../errors.js';
import { checkBindPolicy, splitHostPort } from '../common/grpc-server.js';
import { DEFAULT_STOP_GRACE_MS } from '../common/stop-grace.js';
import { DEFAULT_MASTER_ADDRESS, masterAddress } from '../../client/transport.js';
// TODO(lead): switch to the schema barrel once schema/index.ts exists.
import { parseDuration } from '../../schema/units.js';

/**
 * agent-config.toml (the seed's format plus optional keys) and the CLI flags that override it,
 * compiled into one `CompiledAgentOptions` (milliseconds, absolute paths). Every refusal names the
 * key (`agent-config.toml: [agent].max_storage_nodes: ...`) or the flag (`--max-nodes: ...`).
 */

/** `sutra-grid agent` flags as typed; each overrides the matching config key. */
export interface AgentFlags {
  readonly config?: string | undefined;
  readonly id?: string | undefined;
  readonly master?: string | undefined;
  readonly listen?: string | undefined;
  readonly dataDir?: string | undefined;
  readonly maxNodes?: string | undefined;
  readonly heartbeatInterval?: string | undefined;
  readonly platform?: string | undefined;
  readonly storageBinary?: string | undefined;
  readonly tokenFile?: string | undefined;
  /** A join token (`--join`): get a certificate from the master before starting. */
  readonly join?: string | undefined;
  /** A file holding the join token (`--join-file`); used only while the data dir holds no credential. */
  readonly joinFile?: string | undefined;
  /** `sha256:…` of the grid CA (`--ca-hash`), pinned for the join. */
  readonly caHash?: string | undefined;
}

export type PlatformName = 'process' | 'docker';

/** Internal agent options: validated, in milliseconds and absolute paths. */
export interface CompiledAgentOptions {
  readonly agentId: string;
  readonly masterEndpoint: string;
  /** host:port the GridAgent service binds (port 0 = ephemeral). */
  readonly listen: string;
  readonly platform: PlatformName;
  readonly maxNodes: number;
  /** Sum of node memory the agent accepts; 0 = not limited. */
  readonly maxMemoryMb: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly token: string | undefined;
  /** The agent's certificate and the grid CA (mutual TLS both ways); undefined = no TLS. */
  readonly tls?: TlsSource | undefined;
  readonly storage: {
    /** Storage server executable from the config; undefined = the bundled storage-server. */
    readonly binaryPath: string | undefined;
    /** Absolute; every node's storage path must resolve under it. */
    readonly dataPath: string;
    readonly defaultMemoryMb: number;
    readonly portRangeStart: number;
    readonly portRangeSize: number;
  };
  readonly monitoring: {
    readonly heartbeatIntervalMs: number;
    /** Liveness probe interval for running nodes. */
    readonly healthCheckIntervalMs: number;
    /** Probe interval while a node starts (short: it is on the spawn-to-running path). */
    readonly startupProbeIntervalMs: number;
    /** A node not SERVING within this is killed and counted as a failed start. */
    readonly startTimeoutMs: number;
    readonly restartFailedNodes: boolean;
    readonly restartMax: number;
    readonly restartWindowMs: number;
    readonly restartBackoffMs: number;
    readonly restartBackoffMaxMs: number;
    /** SIGTERM-to-SIGKILL grace for node stops. */
    readonly stopGraceMs: number;
  };
  /**
   * `network`: 'host' (default, nodes on 127.0.0.1 like process nodes) or 'bridge' (published ports; needs a token).
   * `user`: numeric `uid[:gid]` node containers run as; undefined = the agent's own, or the image's
   * unprivileged `node` user (1000:1000) when the agent is root. Checked when the platform starts.
   */
  readonly docker: { readonly socketPath: string; readonly image: string; readonly network: 'host' | 'bridge'; readonly user: string | undefined };
}

type Kind = 'string' | 'port' | 'posint' | 'uint' | 'secs' | 'ms' | 'bool' | 'labels';

/** Every accepted key, per table, with its kind; anything else is refused. */
const SCHEMA: Record<string, Record<string, Kind>> = {
  agent: {
    agent_id: 'string',
    master_endpoint: 'string',
    agent_port: 'uint',
    listen_host: 'string',
    platform: 'string',
    max_storage_nodes: 'posint',
    max_memory_mb: 'uint',
    token_file: 'string',
    labels: 'labels',
  },
  storage: {
    binary_path: 'string',
    data_path: 'string',
    default_memory_mb: 'posint',
    default_port_range_start: 'port',
    port_range_size: 'posint',
  },
  monitoring: {
    heartbeat_interval_secs: 'secs',
    health_check_interval_secs: 'secs',
    startup_probe_interval_ms: 'ms',
    start_timeout_secs: 'secs',
    restart_failed_nodes: 'bool',
    restart_max: 'uint',
    restart_window_secs: 'secs',
    restart_backoff_ms: 'ms',
    restart_backoff_max_ms: 'ms',
    stop_grace_secs: 'secs',
  },
  docker: { socket_path: 'string', image: 'string', network: 'string', user: 'string' },
};

const EXPECTED: Record<Kind, string> = {
  string: 'expected a non-empty string',
  port: 'expected a port 1024-65535',
  posint: 'expected a positive integer',
  uint: 'expected a non-negative integer',
  secs: 'expected a positive number of seconds',
  ms: 'expected a positive number of milliseconds',
  bool: 'expected true or false',
  labels: 'expected a table of string values',
};

function valid(kind: Kind, v: unknown): boolean {
  switch (kind) {
    case 'string':
      return typeof v === 'string' && v.trim() !== '';
    case 'port':
      return Number.isInteger(v) && (v as number) >= 1024 && (v as number) <= 65535;
    case 'posint':
      return Number.isInteger(v) && (v as number) > 0;
    case 'uint':
      return Number.isInteger(v) && (v as number) >= 0;
    case 'secs':
    case 'ms':
      return typeof v === 'number' && Number.isFinite(v) && v > 0;
    case 'bool':
      return typeof v === 'boolean';
    case 'labels':
      return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
  }
}

/** The config file after key/type checking: table -> key -> value. */
export type AgentConfigFile = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/** Checks a parsed TOML document against the schema; `file` prefixes every message. */
export function checkAgentConfig(doc: Record<string, unknown>, file = 'agent-config.toml'): AgentConfigFile {
  const fail = (key: string, msg: string): never => {
    throw new RuntimeError('CONFIG_INVALID', `${file}: ${key}: ${msg}`, { field: key });
  };
  for (const [table, body] of Object.entries(doc)) {
    const schema = SCHEMA[table];
    if (schema === undefined) fail(`[${table}]`, `unknown table (expected ${Object.keys(SCHEMA).map((t) => `[${t}]`).join(', ')})`);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) fail(`[${table}]`, 'expected a table');
    for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
      const kind = schema![key];
      if (kind === undefined) fail(`[${table}].${key}`, 'unknown key');
      if (!valid(kind!, value)) fail(`[${table}].${key}`, `${EXPECTED[kind!]}, got ${JSON.stringify(value)}`);
    }
  }
  return doc as AgentConfigFile;
}

/** Reads and checks agent-config.toml. */
export function loadAgentConfig(path: string): AgentConfigFile {
  const file = basename(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('--config', `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    throw new RuntimeError('CONFIG_INVALID', `${file}: ${(err as Error).message.split('\n')[0]}`, { field: '--config' }, { cause: err });
  }
  return checkAgentConfig(doc, file);
}

function flagInt(value: string, flag: string, min: number): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min) throw new ConfigError(flag, `expected an integer >= ${min}, got "${value}"`);
  return Number(value);
}

function flagDuration(value: string, flag: string): number {
  let ms: number;
  try {
    ms = parseDuration(value, flag);
  } catch (err) {
    throw new ConfigError(flag, `must be a duration like 500ms, 5s or 1m, got ${JSON.stringify(value)}`, { cause: err });
  }
  if (ms <= 0) throw new ConfigError(flag, `must be positive, got ${JSON.stringify(value)}`);
  return ms;
}

/**
 * Compiles config file + flags (flags win) into internal options. `token` is resolved by the
 * caller (it may come from the file's token_file, the flag or the environment).
 */
export function compileAgentOptions(
  file: AgentConfigFile,
  flags: AgentFlags,
  token: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): CompiledAgentOptions {
  const agent = file['agent'] ?? {};
  const storage = file['storage'] ?? {};
  const mon = file['monitoring'] ?? {};
  const docker = file['docker'] ?? {};
  const s = (t: Readonly<Record<string, unknown>>, k: string): string | undefined => t[k] as string | undefined;
  const n = (t: Readonly<Record<string, unknown>>, k: string): number | undefined => t[k] as number | undefined;
  const secs = (k: string, dflt: number): number => Math.round((n(mon, k) ?? dflt) * 1000);

  const agentId = flags.id ?? s(agent, 'agent_id') ?? hostname();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(agentId)) {
    throw new ConfigError(flags.id !== undefined ? '--id' : '[agent].agent_id', `"${agentId}" is not a valid id (letters, digits, . _ -; max 63)`);
  }
  // HOST:PORT or http://HOST:PORT, as the design documents' agent-config.toml writes it.
  const masterEndpoint = masterAddress(
    flags.master ?? s(agent, 'master_endpoint') ?? env['SUTRA_GRID_MASTER'] ?? DEFAULT_MASTER_ADDRESS,
    flags.master !== undefined ? '--master' : '[agent].master_endpoint',
  );
  const listen = flags.listen ?? `${s(agent, 'listen_host') ?? '127.0.0.1'}:${n(agent, 'agent_port') ?? 8001}`;
  try {
    splitHostPort(listen, '--listen');
  } catch (err) {
    throw new ConfigError('--listen', `expected HOST:PORT, got "${listen}"`, { cause: err });
  }

  const platform = flags.platform ?? s(agent, 'platform') ?? 'process';
  if (platform !== 'process' && platform !== 'docker') {
    throw new ConfigError(flags.platform !== undefined ? '--platform' : '[agent].platform', `expected "process" or "docker", got "${platform}"`);
  }
  const dataPath = flags.dataDir ?? s(storage, 'data_path');
  if (dataPath === undefined || dataPath.trim() === '') throw new ConfigError('--data-dir', 'is required (or [storage].data_path)');
  // An agent holding (or about to get) a certificate speaks mutual TLS only: it may listen beyond loopback.
  checkBindPolicy(listen, token, '--listen', flags.join !== undefined || flags.joinFile !== undefined || hasAgentCredential(resolve(dataPath)));

  const portRangeStart = n(storage, 'default_port_range_start') ?? 50051;
  const portRangeSize = n(storage, 'port_range_size') ?? 100;
  if (portRangeStart + portRangeSize - 1 > 65535) {
    throw new ConfigError('[storage].port_range_size', `range ${portRangeStart}-${portRangeStart + portRangeSize - 1} goes past 65535`);
  }
  const restartBackoffMs = n(mon, 'restart_backoff_ms') ?? 200;
  const dockerNetwork = s(docker, 'network') ?? 'host';
  if (dockerNetwork !== 'host' && dockerNetwork !== 'bridge') {
    throw new ConfigError('[docker].network', `expected "host" or "bridge", got "${dockerNetwork}"`);
  }
  return {
    agentId,
    masterEndpoint,
    listen,
    platform,
    maxNodes: flags.maxNodes !== undefined ? flagInt(flags.maxNodes, '--max-nodes', 1) : n(agent, 'max_storage_nodes') ?? 10,
    maxMemoryMb: n(agent, 'max_memory_mb') ?? 0,
    labels: { ...((agent['labels'] as Record<string, string> | undefined) ?? {}) },
    token,
    storage: {
      binaryPath: flags.storageBinary ?? (s(storage, 'binary_path') !== undefined ? resolve(s(storage, 'binary_path')!) : undefined),
      dataPath: resolve(dataPath),
      defaultMemoryMb: n(storage, 'default_memory_mb') ?? 512,
      portRangeStart,
      portRangeSize,
    },
    monitoring: {
      heartbeatIntervalMs:
        flags.heartbeatInterval !== undefined ? flagDuration(flags.heartbeatInterval, '--heartbeat-interval') : secs('heartbeat_interval_secs', 5),
      healthCheckIntervalMs: secs('health_check_interval_secs', 10),
      startupProbeIntervalMs: n(mon, 'startup_probe_interval_ms') ?? 10,
      startTimeoutMs: secs('start_timeout_secs', 30),
      restartFailedNodes: (mon['restart_failed_nodes'] as boolean | undefined) ?? true,
      restartMax: n(mon, 'restart_max') ?? 3,
      restartWindowMs: secs('restart_window_secs', 60),
      restartBackoffMs,
      restartBackoffMaxMs: n(mon, 'restart_backoff_max_ms') ?? Math.max(restartBackoffMs, 5000),
      stopGraceMs: secs('stop_grace_secs', DEFAULT_STOP_GRACE_MS / 1000),
    },
    docker: {
      socketPath: s(docker, 'socket_path') ?? '/var/run/docker.sock',
      image: s(docker, 'image') ?? 'sutra-grid:0.1.0',
      network: dockerNetwork,
      user: s(docker, 'user'),
    },
  };
}
