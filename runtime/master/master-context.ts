import type { Logger } from '../common/logger.js';
import type { AgentClientPool } from './agent-client-pool.js';
import type { AgentRegistry } from './agent-registry.js';
import type { MasterEvents } from './master-events.js';
import type { MasterMetrics } from './master-metrics.js';
import type { CompiledMasterOptions } from './master-options.js';
import type { NodeOperations } from './node-operations.js';
import type { PolicyInForce } from './policy-in-force.js';

// For declarative.ts, whose handlers still import it from here until another change moves them
// under handlers/: the handler types live with the handlers, at the wire edge.

/** Everything a handler module needs, owned by the {@link Master}: the core, in domain terms. */
export interface MasterContext {
  readonly options: CompiledMasterOptions;
  /** Stable across restarts (kept in the data dir); agents see it in RegisterAgentResponse. */
  readonly masterId: string;
  readonly registry: AgentRegistry;
  readonly pool: AgentClientPool;
  readonly ops: NodeOperations;
  readonly events: MasterEvents;
  readonly logger: Logger;
  /** The monitoring policy in force now (the applied spec's, else the flags): sent to agents, enforced by the health monitor. */
  readonly policy: () => PolicyInForce;
  /** Aborted when the master starts draining: long-lived streams end on it. */
  readonly stopping: AbortSignal;
  /** Told what the master measures; undefined when nobody keeps metrics. */
  readonly metrics?: MasterMetrics | undefined;
  /**
   * Throws (naming the leader) when this master must not answer `rpc` now: a follower of several
   * masters. Checked per message on long-lived streams, whose gate ran once when they opened.
   */
  readonly mayServe?: (rpc: string) => void;
  /** Revoked node certificates the agents hand to their nodes (empty without TLS). */
  readonly revokedNodeSerials?: () => readonly string[];
}
