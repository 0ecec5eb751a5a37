import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import {
  GridAgentService,
  type ConfigureNodeRequest,
  type ConfigureNodeResponse,
  type GetNodeStatusRequest,
  type GetNodeStatusResponse,
  type ListNodesResponse,
  type SpawnNodeRequest,
  type SpawnNodeResponse,
  type StopNodeRequest,
  type StopNodeResponse,
} from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { optionalId, requireId } from '../common/grpc-edge.js';
import { wrapService } from '../common/grpc-server.js';
import type { CallGuard } from '../common/call-guard.js';
import { configureFromWire, nodeToWire } from '../common/grid-wire.js';
import type { NodeSupervisor } from './node-supervisor.js';

/**
 * The GridAgent service over a NodeSupervisor, ready for `startGrpcServer`: the agent's edge, where
 * requests become domain calls and node views become NodeInfo. Token check and status mapping come
 * from wrapService; ids are checked here (missing or malformed: INVALID_ARGUMENT naming the field).
 */
export function createAgentService(supervisor: NodeSupervisor, token: string | undefined | CallGuard): { definition: typeof GridAgentService; impl: UntypedServiceImplementation } {
  const impl = wrapService(
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
          grid: req.grid,
          term: req.term,
          leaderAddress: req.leaderAddress,
          durability: req.durability,
          syncQuorum: req.syncQuorum,
          syncTimeoutMs: req.syncTimeoutMs,
        });
        return { node: nodeToWire(node) };
      },
      async configureNode(req: ConfigureNodeRequest): Promise<ConfigureNodeResponse> {
        const nodeId = requireId('node_id', req.nodeId);
        return { node: nodeToWire(await supervisor.configure({ ...configureFromWire(req), nodeId })) };
      },
      async stopNode(req: StopNodeRequest): Promise<StopNodeResponse> {
        return { node: nodeToWire(await supervisor.stop(requireId('node_id', req.nodeId), req.graceMs)) };
      },
      async getNodeStatus(req: GetNodeStatusRequest): Promise<GetNodeStatusResponse> {
        return { node: nodeToWire(await supervisor.status(requireId('node_id', req.nodeId))) };
      },
      async listNodes(): Promise<ListNodesResponse> {
        return { nodes: supervisor.list().map(nodeToWire) };
      },
    },
    token,
  );
  return { definition: GridAgentService, impl };
}
