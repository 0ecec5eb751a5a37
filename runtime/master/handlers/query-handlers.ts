import { computeClusterStatus } from '../cluster-status.js';
import type { MasterContext, MasterHandlers } from '../master-context.js';

type QueryHandlers = Pick<MasterHandlers, 'listAgents' | 'listNodes' | 'getClusterStatus'>;

/** Read-only views of the master's state; they never call agents. */
export function createQueryHandlers(ctx: MasterContext): QueryHandlers {
  const { registry } = ctx;
  return {
    listAgents() {
      return {
        agents: registry.list().map((a) => ({
          info: a.info,
          health: a.health,
          lastHeartbeatMs: a.lastHeartbeatMs,
          registeredAtMs: a.registeredAtMs,
          nodes: registry.nodes.list({ agentId: a.info.agentId }),
        })),
      };
    },
    listNodes(req) {
      return { nodes: registry.nodes.list({ agentId: req.agentId, cluster: req.cluster }) };
    },
    getClusterStatus() {
      return computeClusterStatus(registry);
    },
  };
}
