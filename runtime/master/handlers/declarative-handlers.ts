import { unplacedToWire } from '../../../client/index.js';
import { nodeToWire } from '../../common/grid-wire.js';
import type { DeclarativeControl } from '../declarative.js';
import { ListStorageNodesResponse } from '../../../proto/gen/sutra/grid/v1/grid.pb.js';
import { withEncodedPlan } from './encoded-plan.js';
import { answerInSlices } from './sliced-lists.js';
import type { HandlerFactory } from './master-handlers.js';

/**
 * ApplySpec, GetSpec, DeleteSpec, ListNodes (roles as assigned) and GetClusterStatus (with
 * per-cluster health and the reconciler's progress): the wire edge of the declarative control.
 */
export function declarativeHandlers(control: DeclarativeControl): HandlerFactory {
  return () => ({
    applySpec: async (req) => {
      const outcome = await control.apply(req.specJson, req.expectedGeneration, req.dryRun);
      return withEncodedPlan({ generation: outcome.generation, changed: outcome.changed }, outcome.encodedPlan);
    },
    getSpec: async () => {
      await control.refreshFollower();
      const c = control.desired.current();
      return { specJson: c.specJson, generation: c.generation, appliedAtMs: c.appliedAtMs };
    },
    deleteSpec: async (req) => ({ generation: await control.delete(req.expectedGeneration, req.gridName) }),
    listNodes: (req) =>
      answerInSlices({ nodes: [] }, control.nodes({ agentId: req.agentId, cluster: req.cluster }), (nodes) => ListStorageNodesResponse.encode({ nodes: nodes.map(nodeToWire) }).finish()),
    getClusterStatus: () => {
      const status = control.status();
      const { generation, pendingActions, unplaced, rollouts } = status.reconcile;
      return {
        ...status,
        clusters: status.clusters.map((c) => ({ ...c })),
        masters: (status.masters ?? []).map((m) => ({ ...m })),
        storeHealth: status.storeHealth ?? '',
        reconcile: { generation, pendingActions, unplaced: unplaced.map(unplacedToWire), rollouts: rollouts.map((r) => ({ ...r })) },
      };
    },
  });
}
