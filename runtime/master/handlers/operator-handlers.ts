import { nodeToWire } from '../../common/grid-wire.js';
import type { DeclarativeControl } from '../declarative.js';
import type { HandlerFactory } from './master-handlers.js';
import { requireId } from './request-checks.js';

/**
 * PromoteNode and RestartNode: an operator's actions on one node (planned-handover.ts,
 * node-restart.ts). The id is checked here, at the edge.
 */
export function operatorHandlers(control: DeclarativeControl): HandlerFactory {
  return () => ({
    promoteNode: async (req) => {
      const r = await control.handover.promote(requireId('node_id', req.nodeId));
      return { cluster: r.cluster, nodeId: r.nodeId, previousLeader: r.previous, term: r.term, logPosition: r.logPosition };
    },
    restartNode: async (req) => {
      const r = await control.restarts.restart(requireId('node_id', req.nodeId));
      return { node: nodeToWire(r.node), handedOverTo: r.handedOverTo };
    },
  });
}
