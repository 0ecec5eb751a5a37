import type { ServerDuplexStream, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import type * as pb from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import type { Logger } from '../common/logger.js';
import type { AgentClientPool } from './agent-client-pool.js';
import type { AgentRegistry } from './agent-registry.js';
import type { MasterEvents } from './master-events.js';
import type { CompiledMasterOptions } from './master-options.js';
import type { NodeOperations } from './node-operations.js';
import type { PolicyInForce } from './policy-in-force.js';

/** Everything a handler module needs, owned by the {@link Master}. */
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
}

/** An async unary handler: return the response or throw (GridError or a gRPC-status error). */
export type UnaryHandler<Req, Res> = (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res> | Res;

/** A server-streaming handler; errors thrown are sent as the stream's status. */
export type StreamHandler<Req, Res> = (call: ServerWritableStream<Req, Res>) => Promise<void> | void;

/** The GridMaster service, one async handler per RPC (keys as in `GridMasterService`). */
export interface MasterHandlers {
  registerAgent: UnaryHandler<pb.RegisterAgentRequest, pb.RegisterAgentResponse>;
  heartbeat: UnaryHandler<pb.HeartbeatRequest, pb.HeartbeatResponse>;
  heartbeatStream: (call: ServerDuplexStream<pb.HeartbeatRequest, pb.HeartbeatResponse>) => void;
  unregisterAgent: UnaryHandler<pb.UnregisterAgentRequest, pb.UnregisterAgentResponse>;
  reportNodeEvents: UnaryHandler<pb.ReportNodeEventsRequest, pb.ReportNodeEventsResponse>;
  spawnStorageNode: UnaryHandler<pb.SpawnStorageNodeRequest, pb.SpawnStorageNodeResponse>;
  stopStorageNode: UnaryHandler<pb.StopStorageNodeRequest, pb.StopStorageNodeResponse>;
  getStorageNodeStatus: UnaryHandler<pb.GetStorageNodeStatusRequest, pb.GetStorageNodeStatusResponse>;
  listAgents: UnaryHandler<pb.ListAgentsRequest, pb.ListAgentsResponse>;
  listNodes: UnaryHandler<pb.ListStorageNodesRequest, pb.ListStorageNodesResponse>;
  getClusterStatus: UnaryHandler<pb.GetClusterStatusRequest, pb.GetClusterStatusResponse>;
  applySpec: UnaryHandler<pb.ApplySpecRequest, pb.ApplySpecResponse>;
  getSpec: UnaryHandler<pb.GetSpecRequest, pb.GetSpecResponse>;
  deleteSpec: UnaryHandler<pb.DeleteSpecRequest, pb.DeleteSpecResponse>;
  listEvents: UnaryHandler<pb.ListEventsRequest, pb.ListEventsResponse>;
  watchEvents: StreamHandler<pb.WatchEventsRequest, pb.WatchEventsResponse>;
}

/** Builds some of the handlers from the context; the master merges these over its defaults. */
export type HandlerFactory = (ctx: MasterContext) => Partial<MasterHandlers>;
