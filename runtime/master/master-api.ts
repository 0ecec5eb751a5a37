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
