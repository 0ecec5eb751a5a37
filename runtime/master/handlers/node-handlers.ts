import { nodeToWire } from '../../common/grid-wire.js';
import type { MasterContext } from '../master-context.js';
import type { MasterHandlers } from './master-handlers.js';
import { optionalId, requireId } from './request-checks.js';

type NodeHandlers = Pick<MasterHandlers, 'spawnStorageNode' | 'stopStorageNode' | 'getStorageNodeStatus'>;

/** Imperative node control; the work is in {@link NodeOperations}. Ids are checked here, at the edge. */
export function createNodeHandlers(ctx: MasterContext): NodeHandlers {
  return {
    async spawnStorageNode(req) {
      const node = await ctx.ops.spawn({
        agentId: requireId('agent_id', req.agentId),
        port: req.port,
        memoryMb: req.memoryMb,
        storagePath: req.storagePath,
        nodeId: optionalId('node_id', req.nodeId),
      });
      return { node: nodeToWire(node) };
    },
    async stopStorageNode(req) {
      return { node: nodeToWire(await ctx.ops.stop(requireId('node_id', req.nodeId), req.graceMs)) };
    },
    async getStorageNodeStatus(req) {
      const { node, stale } = await ctx.ops.status(requireId('node_id', req.nodeId));
      return { node: nodeToWire(node), stale };
    },
  };
}
