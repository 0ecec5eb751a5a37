/**
 * The plan on the wire: plan/'s {@link Plan} to the typed `Plan` message of ApplySpecResponse and
 * back. The master converts where it plans (its spec worker, off the event loop) and forwards the
 * bytes; clients convert on receipt, so nobody casts JSON to a Plan. A value this client does not
 * know (an op or role of a newer master) is refused by name.
 */
import { BinaryWriter } from '@bufbuild/protobuf/wire';
import type { Deferred, Plan, PlanAction, PlanOp, Unplaced } from '../plan/index.js';
import type { NodeRole } from '../schema/index.js';
import * as pb from '../proto/gen/sutra/grid/v1/grid.pb.js';
import { ClientError } from './errors.js';

const OP_TO_WIRE: Readonly<Record<PlanOp, pb.PlanOp>> = {
  create: pb.PlanOp.PLAN_OP_CREATE,
  destroy: pb.PlanOp.PLAN_OP_DESTROY,
  update: pb.PlanOp.PLAN_OP_UPDATE,
  replace: pb.PlanOp.PLAN_OP_REPLACE,
};
const OP_FROM_WIRE = new Map<pb.PlanOp, PlanOp>(Object.entries(OP_TO_WIRE).map(([op, wire]) => [wire, op as PlanOp]));
const ROLES: ReadonlySet<string> = new Set<NodeRole | ''>(['', 'standalone', 'leader', 'replica']);

/** `plan` as the ApplySpecResponse `plan` message. */
export function planToWire(plan: Plan): pb.Plan {
  return {
    actions: plan.actions.map((a) => ({
      op: OP_TO_WIRE[a.op],
      cluster: a.cluster,
      nodeId: a.nodeId,
      agentId: a.agentId,
      fromAgentId: a.fromAgentId,
      role: a.role,
      memoryMb: a.memoryMb,
      reason: a.reason,
      step: a.step,
      handoverTo: a.handoverTo,
      surge: a.surge,
    })),
    unplaced: plan.unplaced.map(unplacedToWire),
    deferred: plan.deferred.map((d) => ({ ...d })),
    summary: { ...plan.summary },
    changed: plan.changed,
  };
}

/**
 * `plan` as the bytes of the `Plan` message. A plan at the spec limits is tens of MB: the master
 * encodes it in its spec worker and its event loop only forwards the bytes
 * ({@link encodeApplySpecResponse}).
 */
export function encodePlan(plan: Plan): Uint8Array {
  return pb.Plan.encode(planToWire(plan)).finish();
}

/** Field 4 (`plan`) of ApplySpecResponse, length-delimited: how a nested message is framed. */
const APPLY_SPEC_PLAN_TAG = (4 << 3) | 2;

/**
 * The bytes of an ApplySpecResponse whose plan is already encoded ({@link encodePlan}): the plan
 * is framed as field 4, byte for byte what encoding the whole message would give.
 */
export function encodeApplySpecResponse(answer: Omit<pb.ApplySpecResponse, 'plan'>, encodedPlan: Uint8Array): Uint8Array {
  const writer = pb.ApplySpecResponse.encode({ generation: answer.generation, changed: answer.changed }, new BinaryWriter());
  return writer.uint32(APPLY_SPEC_PLAN_TAG).bytes(encodedPlan).finish();
}

/**
 * The plan a master sent.
 * @throws ClientError MASTER_ANSWER_INVALID naming the field when it is missing or holds an op or
 * role this client does not know.
 */
export function planFromWire(wire: pb.Plan | undefined): Plan {
  if (wire === undefined) throw invalid('plan', 'is missing (a master older than this client sends none)');
  const s = wire.summary ?? { create: 0, destroy: 0, update: 0, replace: 0, unchanged: 0 };
  return {
    actions: wire.actions.map((a, i) => actionFromWire(a, `plan.actions[${i}]`)),
    unplaced: wire.unplaced.map(unplacedFromWire),
    deferred: wire.deferred.map((d): Deferred => ({ cluster: d.cluster, nodeId: d.nodeId, agentId: d.agentId, reason: d.reason })),
    summary: { create: s.create, destroy: s.destroy, update: s.update, replace: s.replace, unchanged: s.unchanged },
    changed: wire.changed,
  };
}

/**
 * The plan from the bytes of a `Plan` message ({@link encodePlan}): what the master's spec worker
 * produced, for an in-process front-end (the HTTP API) that answers in JSON.
 * @throws ClientError MASTER_ANSWER_INVALID as {@link planFromWire}.
 */
export function decodePlan(bytes: Uint8Array): Plan {
  return planFromWire(pb.Plan.decode(bytes));
}

/** Unplaced nodes of one cluster, as the plan and the reconciler's status carry them. */
export function unplacedToWire(u: Unplaced): pb.PlanUnplaced {
  return { cluster: u.cluster, nodeIds: [...u.nodeIds], reason: u.reason };
}

/** @see unplacedToWire */
export function unplacedFromWire(u: pb.PlanUnplaced): Unplaced {
  return { cluster: u.cluster, nodeIds: u.nodeIds, reason: u.reason };
}

function actionFromWire(a: pb.PlanAction, field: string): PlanAction {
  const op = OP_FROM_WIRE.get(a.op);
  if (op === undefined) throw invalid(`${field}.op`, `unknown plan op ${a.op}`);
  if (!ROLES.has(a.role)) throw invalid(`${field}.role`, `unknown role ${JSON.stringify(a.role)}`);
  const action = { op, cluster: a.cluster, nodeId: a.nodeId, agentId: a.agentId, role: a.role as NodeRole | '', memoryMb: a.memoryMb, reason: a.reason };
  const moved = a.fromAgentId === undefined ? action : { ...action, fromAgentId: a.fromAgentId };
  const stepped = a.step === undefined ? moved : { ...moved, step: a.step };
  const handing = a.handoverTo === undefined ? stepped : { ...stepped, handoverTo: a.handoverTo };
  return a.surge === true ? { ...handing, surge: true as const } : handing;
}

function invalid(field: string, why: string): ClientError {
  return new ClientError('MASTER_ANSWER_INVALID', `${field}: ${why}`, { field });
}
