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
import { GridError } from '../errors.js';
import { wrapService } from '../common/grpc-server.js';
import type { NodeSupervisor } from './node-supervisor.js';
import type { NodeView } from './node-types.js';

/** Domain node view -> wire NodeInfo (the only place the agent converts to generated types). */
export function toNodeInfo(v: NodeView): NodeInfo {
  return { ...v };
}

function requireNodeId(nodeId: string): void {
  if (nodeId === '') throw new GridError('INVALID_ARGUMENT', 'node_id: required', { field: 'node_id' });
}

/** GridAgent handlers over a NodeSupervisor, with the token check and status mapping of wrapService. */
export function gridAgentService(supervisor: NodeSupervisor, token: string | undefined): UntypedServiceImplementation {
  return wrapService(
    GridAgentService,
    {
      async spawnNode(req: SpawnNodeRequest): Promise<SpawnNodeResponse> {
        const node = await supervisor.spawn({
          nodeId: req.nodeId,
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
        requireNodeId(req.nodeId);
        return { node: toNodeInfo(await supervisor.stop(req.nodeId, req.graceMs)) };
      },
      async getNodeStatus(req: GetNodeStatusRequest): Promise<GetNodeStatusResponse> {
        requireNodeId(req.nodeId);
        return { node: toNodeInfo(supervisor.get(req.nodeId)) };
      },
      async listNodes(): Promise<ListNodesResponse> {
        return { nodes: supervisor.list().map(toNodeInfo) };
      },
    },
    token,
  );
}
