import type { Command } from 'commander';
import type { MasterOptions } from '../../master/index.js';
import { resolveToken } from '../../../client/transport.js';
import { runUntilSignal } from '../run-until-signal.js';
import { intFlag } from './parse-flags.js';
import { DEFAULT_MASTER_ADDRESS } from '../../../client/transport.js';

/** Raw `sutra-grid master` flags. */
interface MasterFlags {
  readonly listen: string;
  readonly http?: string;
  readonly dataDir?: string;
  readonly heartbeatInterval?: string;
  readonly degradedAfter?: string;
  readonly offlineAfter?: string;
  readonly healthCheckInterval?: string;
  readonly shutdownTimeout?: string;
  readonly tokenFile?: string;
  readonly reconcileInterval?: string;
  readonly settle?: string;
  readonly eventStorage?: string;
  readonly eventMaxAge?: string;
  readonly eventBuffer?: string;
  readonly eventSeriesFlush?: string;
  readonly store?: string;
  readonly etcdCa?: string;
  readonly etcdCert?: string;
  readonly etcdKey?: string;
  readonly leaseTtl?: string;
  readonly advertise?: string;
  readonly tls?: string;
  readonly tlsCaCert?: string;
  readonly tlsCaKey?: string;
  readonly certTtl?: string;
}

/**
 * `sutra-grid master --listen HOST:PORT --data-dir DIR [--heartbeat-interval 5s --degraded-after 15s
 * --offline-after 30s --health-check-interval 1s --token-file F]`. Logs `master listening on
 * HOST:PORT` once serving; runs until SIGINT/SIGTERM.
 */
export function registerMasterCommand(program: Command): void {
  program
    .command('master')
    .description('run the grid master: agents register with it, clients drive it')
    .option('--listen <host:port>', 'address to serve on (port 0 = any free port)', DEFAULT_MASTER_ADDRESS)
    .option('--http <host:port>', 'also serve the HTTP API and /metrics here (off by default; port 0 = any free port)')
    .option('--data-dir <dir>', 'directory the master keeps its state in (created 0700)')
    .option('--heartbeat-interval <duration>', 'interval agents heartbeat at (default 5s)')
    .option('--degraded-after <duration>', 'silence after which an agent is degraded (default 15s)')
    .option('--offline-after <duration>', 'silence after which an agent is offline (default 30s)')
    .option('--health-check-interval <duration>', 'how often agent health is re-evaluated (default 1s)')
    .option('--shutdown-timeout <duration>', 'drain time before a forced stop (default 10s)')
    .option('--token-file <file>', 'require this shared token on every call (default $SUTRA_GRID_TOKEN)')
    .option('--reconcile-interval <duration>', 'time between reconcile passes (default 1s)')
    .option('--settle <duration>', 'after start, wait this long plus the spec replaceAfter for declared agents to re-register before creating nodes (default --degraded-after)')
    .option('--event-storage <host:port>', 'also write every event to this storage-server')
    .option('--event-max-age <duration>', 'event retention by age (default 168h)')
    .option('--event-buffer <n>', 'events held in memory while the event store fails; more are dropped and counted (default 100000)')
    .option('--event-series-flush <duration>', 'how often the count of a repeating event (heartbeats) is written (default 60s)')
    .option('--store <etcd://host:port,...>', 'keep the state in etcd and elect one leader among several masters (default: files in --data-dir)')
    .option('--etcd-ca <file>', 'PEM CA of the etcd members: talk TLS to etcd')
    .option('--etcd-cert <file>', 'PEM client certificate for etcd (with --etcd-key)')
    .option('--etcd-key <file>', 'PEM client key for etcd (with --etcd-cert)')
    .option('--lease-ttl <seconds>', 'with --store: the leader lease TTL; a dead leader is replaced within about this long (default 5)')
    .option('--advertise <host:port>', 'with --store: the address other masters, agents and clients reach this one at (default: the bound --listen address)')
    .option('--tls <mode>', 'mutual TLS on the gRPC port: auto (on unless --listen is loopback), on, off', 'auto')
    .option('--tls-ca-cert <file>', "the operator's CA certificate (default: a CA made in <data-dir>/pki)")
    .option('--tls-ca-key <file>', "the operator's CA key")
    .option('--cert-ttl <duration>', 'life of the certificates the master issues, renewed at half of it (default 24h)')
    .action(async (flags: MasterFlags, cmd: Command) => {
      const { Master, compileMasterOptions, openEtcdState, parseEtcdStore } = await import('../../master/index.js');
      const { ConfigError } = await import('../../errors.js');
      if (!flags.dataDir) throw new ConfigError('--data-dir', 'is required (where the master keeps its state)');
      const rootTokenFile = cmd.parent?.opts<{ tokenFile?: string }>().tokenFile;
      // fastify and prom-client load only for a master that serves HTTP.
      const http = flags.http !== undefined ? (await import('../../http/index.js')).masterHttpDeps() : {};
      if (flags.store === undefined && (flags.etcdCa ?? flags.etcdCert ?? flags.etcdKey ?? flags.leaseTtl ?? flags.advertise) !== undefined) {
        throw new ConfigError('--store', 'is required with --etcd-ca, --etcd-cert, --etcd-key, --lease-ttl and --advertise');
      }
      const options: MasterOptions = {
        listen: flags.listen,
        http: flags.http,
        dataDir: flags.dataDir,
        token: resolveToken({ file: flags.tokenFile ?? rootTokenFile }),
        heartbeatInterval: flags.heartbeatInterval,
        degradedAfter: flags.degradedAfter,
        offlineAfter: flags.offlineAfter,
        healthCheckInterval: flags.healthCheckInterval,
        shutdownTimeout: flags.shutdownTimeout,
        reconcileInterval: flags.reconcileInterval,
        settle: flags.settle,
        eventStorage: flags.eventStorage,
        eventMaxAge: flags.eventMaxAge,
        eventBuffer: flags.eventBuffer === undefined ? undefined : intFlag(flags.eventBuffer, '--event-buffer', 0, 1),
        eventSeriesFlush: flags.eventSeriesFlush,
        tls: flags.tls as 'auto' | 'on' | 'off' | undefined,
        tlsCaCert: flags.tlsCaCert,
        tlsCaKey: flags.tlsCaKey,
        certTtl: flags.certTtl,
        sharedStore: flags.store !== undefined,
      };
      // Bad flags are refused before etcd is dialled.
      compileMasterOptions(options);
      const etcd =
        flags.store === undefined
          ? undefined
          : openEtcdState(
              { endpoints: parseEtcdStore(flags.store), ca: flags.etcdCa, cert: flags.etcdCert, key: flags.etcdKey },
              { ttlSeconds: flags.leaseTtl === undefined ? undefined : intFlag(flags.leaseTtl, '--lease-ttl', 1, 1), advertise: flags.advertise },
            );
      const master = new Master(options, { ...http, ...(etcd !== undefined ? { specStore: etcd.store, leadership: etcd.leadership, sharedEvents: etcd.events, credentials: etcd.credentials } : {}) });
      await runUntilSignal(master, () => master.start());
    });
}
