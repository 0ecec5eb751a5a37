import type { MasterContext, MasterHandlers } from '../master-context.js';

type QueryHandlers = Pick<MasterHandlers, 'listAgents'>;

/**
 * Read-only views of the master's registry; they never call agents. ListNodes and
 * GetClusterStatus need the applied spec (roles as assigned, per-cluster health), so the
 * declarative module defines them.
 */
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
  };
}
