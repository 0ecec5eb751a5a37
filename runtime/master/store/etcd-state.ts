import { createLogger, type Logger } from '../../common/logger.js';
import { connectEtcd, etcdPrefix, type EtcdTarget } from './etcd-target.js';
import { EtcdLeadership } from './etcd-leadership.js';
import { EtcdSpecStore } from './etcd-spec-store.js';
import { EtcdEventLog } from './etcd-event-log.js';
import { EtcdCredentialStore } from './etcd-credential-store.js';

/** A master's state on etcd: the store and the leadership that fences its writes, on one client. */
export interface EtcdState {
  readonly store: EtcdSpecStore;
  /** Owns the etcd client: closing it resigns and closes the client. */
  readonly leadership: EtcdLeadership;
  /** The event log the masters share, appended by the leader only (fenced as the store). */
  readonly events: EtcdEventLog;
  /** Join tokens, API tokens and revocations, shared by the masters (any master writes them). */
  readonly credentials: EtcdCredentialStore;
}

/** Default lease TTL (`--lease-ttl`): a dead leader is replaced within about this long. */
export const DEFAULT_LEASE_TTL_SECONDS = 5;

/**
 * Connects to etcd (lazily: nothing is dialled until the master starts) and builds the store and
 * the leadership. @throws ConfigError for unreadable TLS files.
 */
export function openEtcdState(target: EtcdTarget, opts: { ttlSeconds?: number | undefined; advertise?: string | undefined; logger?: Logger; check?: (specJson: string) => void }): EtcdState {
  const client = connectEtcd(target);
  const prefix = etcdPrefix(target);
  const logger = opts.logger ?? createLogger('sutra-grid-master');
  const leadership = new EtcdLeadership({ client, prefix, endpoints: target.endpoints, ttlSeconds: opts.ttlSeconds ?? DEFAULT_LEASE_TTL_SECONDS, advertise: opts.advertise, logger: logger.child({ component: 'leadership' }) });
  const store = new EtcdSpecStore({ client, prefix, endpoints: target.endpoints, fence: () => leadership.fence(), ...(opts.check !== undefined ? { check: opts.check } : {}) });
  const events = new EtcdEventLog({
    client,
    prefix,
    fence: () => leadership.fence(),
    onError: (err) => logger.warn({ err: (err as Error).message }, 'following the shared event log in etcd failed; will catch up'),
  });
  const credentials = new EtcdCredentialStore({
    client,
    prefix,
    endpoints: target.endpoints,
    onError: (err) => logger.warn({ err: (err as Error).message }, 'following the shared credentials in etcd failed; reading them again'),
  });
  return { store, leadership, events, credentials };
}
