import type { GridIdentity, TlsSource } from '../../client/transport.js';
import type { Logger } from '../common/logger.js';
import type { EventBus } from '../events/index.js';
import type { AgentRegistry } from './agent-registry.js';
import type { DeclarativeControl } from './declarative.js';
import type { CompiledMasterOptions } from './master-options.js';
import type { NodeOperations } from './node-operations.js';

/**
 * The master's in-process services, for a front-end the master starts beside its gRPC server (the
 * HTTP API). They are the very objects the gRPC handlers call, so a front-end adds no behaviour of
 * its own: it converts requests and answers.
 */
export interface MasterApi {
  readonly options: CompiledMasterOptions;
  readonly registry: AgentRegistry;
  /** Spawn, stop and node status, as SpawnStorageNode / StopStorageNode / GetStorageNodeStatus. */
  readonly ops: NodeOperations;
  /** ApplySpec (and its dry run), GetSpec, ListNodes, GetClusterStatus. */
  readonly declarative: DeclarativeControl;
  /** ListEvents and WatchEvents. */
  readonly events: EventBus;
  /** Aborted when the master starts draining: long-lived streams end on it. */
  readonly stopping: AbortSignal;
  readonly logger: Logger;
  /** The grid's credentials when the master runs with mutual TLS; undefined: the shared token only. */
  readonly credentials?: HttpCredentials | undefined;
}

/** What the HTTP API checks callers against when the master runs with mutual TLS (issue 14). */
export interface HttpCredentials {
  /** The master's certificate (renewed while it runs) and the grid CA client certificates chain to. */
  readonly tls: TlsSource;
  /** The identity of an API token (`token create --api`); undefined when it is none, expired or revoked. */
  apiToken(token: string): GridIdentity | undefined;
  /** True for a revoked certificate serial (or any certificate of a revoked agent). */
  isRevoked(serial: string, identity: GridIdentity): boolean;
}

/** A front-end the master started; closed by the master's drain. */
export interface MasterFrontEnd {
  /** HOST:PORT actually bound. */
  readonly address: string;
  /**
   * Stops accepting, lets requests in flight finish and forces the rest after `timeoutMs`.
   * Idempotent; never rejects.
   */
  close(timeoutMs: number): Promise<void>;
}

/**
 * Starts the HTTP API on `listen` (the master's `--http`). Injected by the entry point, so the
 * master imports no HTTP code and the HTTP layer imports the master, not the other way round.
 */
export type HttpFrontEndFactory = (api: MasterApi, listen: string) => Promise<MasterFrontEnd>;
