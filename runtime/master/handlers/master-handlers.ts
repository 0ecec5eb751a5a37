import type { ServerDuplexStream, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import type * as pb from '../../../proto/gen/sutra/grid/v1/grid.pb.js';
import type { MasterContext } from '../master-context.js';

/** An async unary handler: return the response or throw (GridError or a gRPC-status error). */
export type UnaryHandler<Req, Res> = (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res> | Res;

/** A server-streaming handler; errors thrown are sent as the stream's status. */
export type StreamHandler<Req, Res> = (call: ServerWritableStream<Req, Res>) => Promise<void> | void;

/**
 * The GridMaster service, one async handler per RPC (keys as in `GridMasterService`). Handlers are
 * the master's wire edge: they take generated requests, call the domain core and answer generated
 * responses.
 */
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
  cordonAgent: UnaryHandler<pb.CordonAgentRequest, pb.CordonAgentResponse>;
  drainAgent: UnaryHandler<pb.DrainAgentRequest, pb.DrainAgentResponse>;
  uncordonAgent: UnaryHandler<pb.UncordonAgentRequest, pb.UncordonAgentResponse>;
  listEvents: UnaryHandler<pb.ListEventsRequest, pb.ListEventsResponse>;
  watchEvents: StreamHandler<pb.WatchEventsRequest, pb.WatchEventsResponse>;
  promoteNode: UnaryHandler<pb.PromoteNodeRequest, pb.PromoteNodeResponse>;
  restartNode: UnaryHandler<pb.RestartNodeRequest, pb.RestartNodeResponse>;
}

/** Builds some of the handlers from the context; the master merges them, each RPC named once. */
export type HandlerFactory = (ctx: MasterContext) => Partial<MasterHandlers>;
