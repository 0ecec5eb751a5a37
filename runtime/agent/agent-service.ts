import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import {
  GridAgentService,
  type GetNodeStatusRequest,
  type GetNodeStatusResponse,
  type ListNodesResponse,
  type NodeInfo,
  type SpawnNodeRequest,
  type SpawnNodeResponse,
  type StopNodeRequest,
  type StopNodeResponse,
} from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { optionalId, requireId } from '../common/grpc-edge.js';
import { wrapService } from '../common/grpc-server.js';
import type { NodeSupervisor } from './node-supervisor.js';
import type { NodeView } from './node-types.js';

/** Domain node view -> wire NodeInfo (the only place the agent converts to generated types). */
export function toNodeInfo(v: NodeView): NodeInfo {
  return { ...v };
}


/**
 * GridAgent handlers over a NodeSupervisor, with the token check and status mapping of wrapService;
 * ids are checked here, at the edge (missing or malformed: INVALID_ARGUMENT naming the field).
 */
export function gridAgentService(supervisor: NodeSupervisor, token: string | undefined): UntypedServiceImplementation {
  return wrapService(
    GridAgentService,
    {
      async spawnNode(req: SpawnNodeRequest): Promise<SpawnNodeResponse> {
        const node = await supervisor.spawn({
          nodeId: optionalId('node_id', req.nodeId),
          port: req.port,
          memoryMb: req.memoryMb,
          storagePath: req.storagePath,
          cluster: req.cluster,
          role: req.role,
          generation: req.generation,
        });
        return { node: toNodeInfo(node) };
      },
      async stopNode(req: StopNodeRequest): Promise<StopNodeResponse> {
        return { node: toNodeInfo(await supervisor.stop(requireId('node_id', req.nodeId), req.graceMs)) };
      },
      async getNodeStatus(req: GetNodeStatusRequest): Promise<GetNodeStatusResponse> {
        return { node: toNodeInfo(supervisor.get(requireId('node_id', req.nodeId))) };
      },
      async listNodes(): Promise<ListNodesResponse> {
        return { nodes: supervisor.list().map(toNodeInfo) };
      },
    },
    token,
  );
}
