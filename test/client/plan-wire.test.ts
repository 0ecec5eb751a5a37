/**
 * The plan on the wire: what the master sends (planToWire, then protobuf) is, once decoded and
 * read back (planFromWire), the plan the engine made; what this client cannot read is refused by
 * field, not passed on.
 */
import { describe, expect, it } from 'vitest';
import { ClientError, encodeApplySpecResponse, encodePlan, nodeFromWire, planFromWire, planToWire, statusFromWire } from '../../client/index.js';
import { planGrid, type Plan } from '../../plan/index.js';
import { ApplySpecResponse, GetClusterStatusResponse, PlanOp } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { fakeNode } from '../helpers/grid-client.js';
import { agentSpec, clusterSpec, gridSpec, liveAgent, liveAgentsOf, liveNode } from '../plan/fixtures.js';

/**
 * `plan` as a client receives it: through the protobuf bytes of an ApplySpecResponse, made as the
 * master makes them (the plan encoded by itself, then framed into the answer).
 */
function overTheWire(plan: Plan): Plan {
  const bytes = encodeApplySpecResponse({ generation: 7, changed: true }, encodePlan(plan));
  // Framing the encoded plan gives the very bytes of encoding the whole answer at once.
  expect(Buffer.from(bytes)).toEqual(Buffer.from(ApplySpecResponse.encode({ plan: planToWire(plan), generation: 7, changed: true }).finish()));
  const answer = ApplySpecResponse.decode(bytes);
  expect(answer).toMatchObject({ generation: 7, changed: true });
  return planFromWire(answer.plan);
}

function refusal(fn: () => unknown): ClientError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ClientError) return err;
    throw err;
  }
  throw new Error('not refused');
}

describe('plan on the wire', () => {
  it('a plan the engine made comes back equal: every op, the replaced copy, unplaced and deferred nodes, the summary', () => {
    // GIVEN a grid whose plan holds all of it: a node to create, a stray copy to destroy, a
    // replace away from an offline agent, a destroy deferred until that agent returns, and a
    // cluster too big to place
    const spec = gridSpec([agentSpec('a1'), agentSpec('a2'), agentSpec('a3', { capacity: { nodes: 1, memoryMb: 0 } })], [
      clusterSpec('kv', 3, { topology: 'leader-replicas' }),
      clusterSpec('big', 9, { topology: 'standalone' }),
    ]);
    const live = {
      agents: [liveAgent('a1'), liveAgent('a2', { health: 'offline', offlineForMs: 600_000 }), ...liveAgentsOf(spec).slice(2)],
      nodes: [liveNode('kv-0', 'a1', { role: 'leader' }), liveNode('kv-1', 'a2', { role: 'replica' }), liveNode('old-0', 'a1', { cluster: 'old', role: 'standalone' })],
    };
    const plan = planGrid(spec, live);
    expect(new Set(plan.actions.map((a) => a.op))).toEqual(new Set(['create', 'destroy', 'replace']));
    expect(plan.actions.some((a) => a.fromAgentId !== undefined)).toBe(true);
    expect(plan.unplaced.length).toBeGreaterThan(0);
    // WHEN it crosses the wire THEN it is the same plan
    expect(overTheWire(plan)).toEqual(plan);
  });

  it('an empty plan and an update (promotion) come back equal', () => {
    const empty: Plan = { actions: [], unplaced: [], deferred: [], summary: { create: 0, destroy: 0, update: 0, replace: 0, unchanged: 3 }, changed: false };
    expect(overTheWire(empty)).toEqual(empty);
    const promote: Plan = {
      ...empty,
      actions: [{ op: 'update', cluster: 'kv', nodeId: 'kv-1', agentId: 'a1', role: 'leader', memoryMb: 256, reason: 'leader lost' }],
      deferred: [{ cluster: 'kv', nodeId: 'kv-0', agentId: 'a2', reason: 'agent offline' }],
      summary: { ...empty.summary, update: 1 },
      changed: true,
    };
    expect(overTheWire(promote)).toEqual(promote);
  });

  it('refuses a missing plan, an unknown op and an unknown role, naming the field', () => {
    expect(refusal(() => planFromWire(undefined))).toMatchObject({ code: 'MASTER_ANSWER_INVALID', context: { field: 'plan' } });
    const wire = planToWire({
      actions: [{ op: 'create', cluster: 'kv', nodeId: 'kv-0', agentId: 'a1', role: 'leader', memoryMb: 256, reason: 'missing' }],
      unplaced: [], deferred: [], summary: { create: 1, destroy: 0, update: 0, replace: 0, unchanged: 0 }, changed: true,
    });
    const unknownOp = { ...wire, actions: [{ ...wire.actions[0]!, op: 9 as PlanOp }] };
    expect(refusal(() => planFromWire(unknownOp))).toMatchObject({ code: 'MASTER_ANSWER_INVALID', context: { field: 'plan.actions[0].op' } });
    const unspecified = { ...wire, actions: [{ ...wire.actions[0]!, op: PlanOp.PLAN_OP_UNSPECIFIED }] };
    expect(refusal(() => planFromWire(unspecified)).code).toBe('MASTER_ANSWER_INVALID');
    const unknownRole = { ...wire, actions: [{ ...wire.actions[0]!, role: 'captain' }] };
    expect(refusal(() => planFromWire(unknownRole))).toMatchObject({ code: 'MASTER_ANSWER_INVALID', context: { field: 'plan.actions[0].role' } });
  });
});

describe('nodes and status on the wire', () => {
  it('reads a node in domain types, and refuses a status it does not know', () => {
    expect(nodeFromWire(fakeNode('kv-0', 'a1', { cluster: 'kv', role: 'leader', status: 'running' }))).toMatchObject({ nodeId: 'kv-0', status: 'running', role: 'leader' });
    expect(refusal(() => nodeFromWire(fakeNode('kv-0', 'a1', { status: 'zombie' }), 'nodes[3]'))).toMatchObject({ code: 'MASTER_ANSWER_INVALID', context: { field: 'nodes[3].status' } });
  });

  it("reads the reconciler's progress, unplaced nodes included, through protobuf", () => {
    const unplaced = [{ cluster: 'kv', nodeIds: ['kv-2'], reason: 'cluster kv: 1 of 3 nodes unplaced' }];
    const wire = GetClusterStatusResponse.fromPartial({ health: 'degraded', specGeneration: 4, reconcile: { generation: 4, pendingActions: 2, unplaced } });
    const status = statusFromWire(GetClusterStatusResponse.decode(GetClusterStatusResponse.encode(wire).finish()));
    expect(status).toMatchObject({ health: 'degraded', specGeneration: 4, reconcile: { generation: 4, pendingActions: 2, unplaced } });
  });
});
