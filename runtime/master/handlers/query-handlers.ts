import { agentViewToWire } from '../../common/grid-wire.js';
import type { MasterContext } from '../master-context.js';
import type { MasterHandlers } from './master-handlers.js';

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
        agents: registry.list().map((a) => agentViewToWire({ ...a, nodes: registry.nodes.list({ agentId: a.info.agentId }) })),
      };
    },
  };
}
