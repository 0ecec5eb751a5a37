import { agentViewToWire, cordonToWire } from '../../common/grid-wire.js';
import { drainDeadline, type CordonControl } from '../cordons.js';
import type { MasterContext } from '../master-context.js';
import { ListAgentsResponse } from '../../../proto/gen/sutra/grid/v1/grid.pb.js';
import type { HandlerFactory } from './master-handlers.js';
import { answerInSlices } from './sliced-lists.js';

/**
 * ListAgents (each registered agent with its health, nodes and cordon), CordonAgent, DrainAgent and
 * UncordonAgent: the agents as an operator sees and steers them. Read-only but for the cordons;
 * none of them calls an agent (a drain's moves are the reconciler's work).
 */
export function cordonHandlers(cordons: CordonControl): HandlerFactory {
  return (ctx: MasterContext) => ({
    listAgents: () => {
      const { registry } = ctx;
      const cordonOf = cordons.lookup();
      return answerInSlices({ agents: [] }, registry.list(), (agents) =>
        ListAgentsResponse.encode({
          agents: agents.map((a) => agentViewToWire({ ...a, nodes: registry.nodes.list({ agentId: a.info.agentId }), cordon: cordonOf(a.info.agentId) })),
        }).finish(),
      );
    },
    cordonAgent: async (req) => {
      const { cordon, changed } = await cordons.cordon(req.agentId, req.reason);
      return { cordon: cordonToWire(cordon), changed };
    },
    drainAgent: async (req) => {
      const { cordon, changed } = await cordons.drain(req.agentId, drainDeadline(req.deadlineMs, Date.now()), req.reason);
      return { cordon: cordonToWire(cordon), changed };
    },
    uncordonAgent: async (req) => {
      const { cordon, changed } = await cordons.uncordon(req.agentId);
      return { cordon: cordonToWire(cordon), changed };
    },
  });
}
