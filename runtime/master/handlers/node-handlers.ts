import type { MasterContext, MasterHandlers } from '../master-context.js';

type NodeHandlers = Pick<MasterHandlers, 'spawnStorageNode' | 'stopStorageNode' | 'getStorageNodeStatus'>;

/** Imperative node control; the work is in {@link NodeOperations}. */
export function createNodeHandlers(ctx: MasterContext): NodeHandlers {
  return {
    async spawnStorageNode(req) {
      const node = await ctx.ops.spawn({
        agentId: req.agentId,
        port: req.port,
        memoryMb: req.memoryMb,
        storagePath: req.storagePath,
        nodeId: req.nodeId,
      });
      return { node };
    },
    async stopStorageNode(req) {
      return { node: await ctx.ops.stop(req.nodeId, req.graceMs) };
    },
    async getStorageNodeStatus(req) {
      return ctx.ops.status(req.nodeId);
    },
  };
}
