import { ConfigError } from '../errors.js';
import { checkBindPolicy, isLoopbackHost, splitHostPort } from '../common/grpc-server.js';
import { parseDuration } from '../../schema/index.js';
import { DEFAULT_MASTER_ADDRESS } from '../../client/transport.js';

/** User-facing master options: readable values, all optional except `dataDir`. */
export interface MasterOptions {
  /** HOST:PORT to serve on; port 0 picks a free one. @default "127.0.0.1:7000" */
  readonly listen?: string;
  /**
   * HOST:PORT of the HTTP API, `/metrics` included (`--http`); port 0 picks a free one. Same bind
   * policy as `listen`: without a token, loopback only. @default undefined (no HTTP listener)
   */
  readonly http?: string | undefined;
  /** Directory the master owns (created 0700). */
  readonly dataDir: string;
  /** Shared token every caller must present; undefined = no auth (loopback only). */
  readonly token?: string | undefined;
  /** Interval agents are told to heartbeat at. @default "5s" */
  readonly heartbeatInterval?: string | number;
  /** Silence after which an agent is degraded. @default "15s" */
  readonly degradedAfter?: string | number;
  /** Silence after which an agent is offline. @default "30s" */
  readonly offlineAfter?: string | number;
  /** How often agent health is re-evaluated. @default "1s" */
  readonly healthCheckInterval?: string | number;
  /** How long a graceful shutdown may take before it is forced. @default "10s" */
  readonly shutdownTimeout?: string | number;
  /** Time between reconcile passes when nothing triggers one. @default "1s" */
  readonly reconcileInterval?: string | number;
  /**
   * After start, how long the reconciler waits for the declared agents to re-register before it
   * creates or replaces nodes (so a restarted master never starts duplicates). @default degradedAfter
   */
  readonly settle?: string | number;
  /** storage-server HOST:PORT every event is also written to (`--event-storage`). */
  readonly eventStorage?: string;
  /** Event retention: at most this many events are kept. @default 1000000 */
  readonly eventMaxCount?: number;
  /** Event retention: events older than this are removed. @default "7d" */
  readonly eventMaxAge?: string | number;
  /**
   * Events held in memory while the event store fails; beyond this, new events are dropped and
   * counted (`status` shows the count). @default 100000
   */
  readonly eventBuffer?: number;
  /** While identical events repeat (heartbeats), their series count is written this often. @default "60s" */
  readonly eventSeriesFlush?: string | number;
  /**
   * Mutual TLS on the gRPC port (`--tls`): `auto` turns it on when `listen` is not a loopback
   * address. @default "auto"
   */
  readonly tls?: 'auto' | 'on' | 'off';
  /** The operator's CA certificate file (`--tls-ca-cert`); else the master makes one in its data dir. */
  readonly tlsCaCert?: string | undefined;
  /** The operator's CA key file (`--tls-ca-key`). */
  readonly tlsCaKey?: string | undefined;
  /**
   * The state is shared with other masters (`--store etcd://`). With TLS they must share one grid
   * CA, given by the operator: a CA each master made itself would have the certificates of one
   * refused by the next leader. @default false
   */
  readonly sharedStore?: boolean;
  /** Life of the certificates the master issues, its own included; renewed at half of it. @default "24h" */
  readonly certTtl?: string | number;
}

/** The master's TLS settings, compiled. */
export interface CompiledTls {
  readonly enabled: boolean;
  readonly certTtlMs: number;
  readonly givenCa: { certFile: string; keyFile: string } | undefined;
}

/** Options compiled to internal units (milliseconds), validated. */
export interface CompiledMasterOptions {
  readonly listen: string;
  readonly http: string | undefined;
  readonly dataDir: string;
  readonly token: string | undefined;
  readonly heartbeatIntervalMs: number;
  readonly degradedAfterMs: number;
  readonly offlineAfterMs: number;
  readonly healthCheckIntervalMs: number;
  readonly shutdownTimeoutMs: number;
  readonly reconcileIntervalMs: number;
  readonly settleMs: number;
  readonly eventStorage: string | undefined;
  readonly eventMaxCount: number;
  readonly eventMaxAgeMs: number;
  readonly eventBuffer: number;
  readonly eventSeriesFlushMs: number;
  readonly tls: CompiledTls;
}

/** The CLI flag each option is set by, so errors name what the user typed. */
const FLAG: Record<string, string> = {
  listen: '--listen',
  http: '--http',
  dataDir: '--data-dir',
  heartbeatInterval: '--heartbeat-interval',
  degradedAfter: '--degraded-after',
  offlineAfter: '--offline-after',
  healthCheckInterval: '--health-check-interval',
  shutdownTimeout: '--shutdown-timeout',
  reconcileInterval: '--reconcile-interval',
  settle: '--settle',
  eventMaxAge: '--event-max-age',
  eventSeriesFlush: '--event-series-flush',
  certTtl: '--cert-ttl',
};

function durationMs(value: string | number | undefined, fallback: string, key: string): number {
  const flag = FLAG[key] ?? key;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) throw new ConfigError(flag, `must be a positive duration, got ${value}`);
    return Math.round(value);
  }
  let ms: number;
  try {
    ms = parseDuration(value ?? fallback, flag);
  } catch (err) {
    throw new ConfigError(flag, `must be a duration like 500ms, 5s or 1m, got ${JSON.stringify(value)}`, { cause: err });
  }
  if (ms <= 0) throw new ConfigError(flag, `must be a positive duration, got ${JSON.stringify(value)}`);
  return ms;
}

/**
 * Compiles user-facing options into internal ones.
 * @throws ConfigError (code CONFIG_INVALID) naming the flag, or GridError INSECURE_BIND for a
 * tokenless non-loopback listen address.
 */
export function compileMasterOptions(opts: MasterOptions): CompiledMasterOptions {
  const listen = opts.listen ?? DEFAULT_MASTER_ADDRESS;
  try {
    splitHostPort(listen, '--listen');
  } catch (err) {
    throw new ConfigError('--listen', `expected HOST:PORT (port 0-65535), got "${listen}"`, { cause: err });
  }
  const tls = compileTls(opts, listen);
  checkBindPolicy(listen, opts.token, '--listen', tls.enabled);
  if (opts.http !== undefined) {
    try {
      splitHostPort(opts.http, '--http');
    } catch (err) {
      throw new ConfigError('--http', `expected HOST:PORT (port 0-65535), got "${opts.http}"`, { cause: err });
    }
    // With TLS the HTTP API is HTTPS and wants a client certificate or an API token (issue 14).
    checkBindPolicy(opts.http, opts.token, '--http', tls.enabled);
  }
  if (typeof opts.dataDir !== 'string' || opts.dataDir.trim() === '') throw new ConfigError('--data-dir', 'is required');
  let compiled: CompiledMasterOptions = {
    listen,
    http: opts.http,
    dataDir: opts.dataDir,
    token: opts.token,
    heartbeatIntervalMs: durationMs(opts.heartbeatInterval, '5s', 'heartbeatInterval'),
    degradedAfterMs: durationMs(opts.degradedAfter, '15s', 'degradedAfter'),
    offlineAfterMs: durationMs(opts.offlineAfter, '30s', 'offlineAfter'),
    healthCheckIntervalMs: durationMs(opts.healthCheckInterval, '1s', 'healthCheckInterval'),
    shutdownTimeoutMs: durationMs(opts.shutdownTimeout, '10s', 'shutdownTimeout'),
    reconcileIntervalMs: durationMs(opts.reconcileInterval, '1s', 'reconcileInterval'),
    settleMs: 0,
    eventStorage: opts.eventStorage,
    eventMaxCount: opts.eventMaxCount ?? 1_000_000,
    eventMaxAgeMs: durationMs(opts.eventMaxAge, '168h', 'eventMaxAge'),
    eventBuffer: opts.eventBuffer ?? 100_000,
    eventSeriesFlushMs: durationMs(opts.eventSeriesFlush, '60s', 'eventSeriesFlush'),
    tls,
  };
  if (opts.eventStorage !== undefined) {
    try {
      splitHostPort(opts.eventStorage, '--event-storage');
    } catch (err) {
      throw new ConfigError('--event-storage', `expected HOST:PORT, got "${opts.eventStorage}"`, { cause: err });
    }
  }
  if (!Number.isInteger(compiled.eventMaxCount) || compiled.eventMaxCount <= 0) {
    throw new ConfigError('--event-max-count', `must be a positive integer, got ${compiled.eventMaxCount}`);
  }
  if (!Number.isInteger(compiled.eventBuffer) || compiled.eventBuffer <= 0) {
    throw new ConfigError('--event-buffer', `must be a positive integer, got ${compiled.eventBuffer}`);
  }
  compiled = { ...compiled, settleMs: opts.settle === undefined ? compiled.degradedAfterMs : durationMs(opts.settle, '15s', 'settle') };
  if (compiled.offlineAfterMs <= compiled.degradedAfterMs) {
    throw new ConfigError('--offline-after', `must be longer than --degraded-after (${compiled.degradedAfterMs} ms)`);
  }
  if (compiled.degradedAfterMs <= compiled.heartbeatIntervalMs) {
    throw new ConfigError('--degraded-after', `must be longer than --heartbeat-interval (${compiled.heartbeatIntervalMs} ms)`);
  }
  return compiled;
}

function compileTls(opts: MasterOptions, listen: string): CompiledTls {
  const mode = opts.tls ?? 'auto';
  if (mode !== 'auto' && mode !== 'on' && mode !== 'off') throw new ConfigError('--tls', `must be auto, on or off, got ${JSON.stringify(mode)}`);
  if ((opts.tlsCaCert === undefined) !== (opts.tlsCaKey === undefined)) {
    throw new ConfigError(opts.tlsCaCert === undefined ? '--tls-ca-cert' : '--tls-ca-key', 'give --tls-ca-cert and --tls-ca-key together');
  }
  const enabled = mode === 'on' || (mode === 'auto' && !isLoopbackHost(splitHostPort(listen, '--listen').host));
  if (enabled && opts.sharedStore === true && opts.tlsCaCert === undefined) {
    throw new ConfigError(
      '--tls-ca-cert',
      'several masters on --store share one grid CA: give every master the same --tls-ca-cert and --tls-ca-key (else an agent joined at one master is refused by the next leader)',
    );
  }
  return {
    enabled,
    certTtlMs: durationMs(opts.certTtl, '24h', 'certTtl'),
    givenCa: opts.tlsCaCert !== undefined && opts.tlsCaKey !== undefined ? { certFile: opts.tlsCaCert, keyFile: opts.tlsCaKey } : undefined,
  };
}
