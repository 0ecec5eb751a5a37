/**
 * The per-node and per-agent actions of the HTTP API against a real master, agents and storage
 * servers: `POST nodes/:id/restart`, `nodes/:id/promote` (a leader-replicas cluster's planned
 * handover) and `agents/:id/drain`, answering as the CLI's `--json` and refusing as gRPC does.
 */
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, trackPid } from '../helpers/processes.js';
import { HttpGrid, gridSpec, type Answer, type ProblemBody } from './support/http-grid.js';

type Node = Record<string, unknown> & { nodeId: string; role: string; status: string; pid: number; replication?: { leader: string; catchingUp: boolean; term: number } };

let grid: HttpGrid;
// a3 is declared but holds no node of kg (placement keeps kg on a1 and a2): a drain of it has nothing to move.
const SPEC = gridSpec([{ id: 'a1' }, { id: 'a2' }, { id: 'a3' }], [{ name: 'kg', nodes: 2, topology: 'leader-replicas', agents: ['a1', 'a2'] }], { replaceAfter: '10m' });

beforeAll(async () => {
  grid = new HttpGrid();
  await grid.startHttpMaster();
  await Promise.all(['a1', 'a2', 'a3'].map((id) => grid.agent(id)));
  await eventually(async () => ((await grid.call<{ agents: unknown[] }>('agents')).body.agents.length === 3 ? true : undefined), 30_000);
  const applied = await grid.postYaml('apply?expectedGeneration=0', stringify(SPEC));
  expect(applied.status, JSON.stringify(applied.body)).toBe(200);
});

afterAll(async () => {
  const leaked = await grid.teardown();
  expect(leaked).toEqual([]);
});

function expectProblem(a: Answer<unknown>, status: number, grpcCode: string, field?: string): ProblemBody {
  const p = a.body as ProblemBody;
  expect(a.contentType, JSON.stringify(a.body)).toMatch(/^application\/problem\+json/);
  expect(a.status, JSON.stringify(a.body)).toBe(status);
  expect(p).toMatchObject({ status, grpcCode });
  if (field !== undefined) expect(p.field).toBe(field);
  return p;
}

/** The running leader and replica of kg once the replica follows the leader, caught up. */
async function settled(): Promise<{ leader: Node; replica: Node }> {
  return eventually(async () => {
    const nodes = (await grid.call<{ nodes: Node[] }>('nodes?cluster=kg')).body.nodes.filter((n) => n.status === 'running');
    for (const n of nodes) trackPid(n.pid);
    const leader = nodes.find((n) => n.role === 'leader');
    const replica = nodes.find((n) => n.role === 'replica');
    if (leader === undefined || replica === undefined || replica.replication?.catchingUp !== false || replica.replication.leader === '') return undefined;
    return { leader, replica };
  }, 90_000);
}

describe('HTTP API: node actions', () => {
  it('POST nodes/:id/restart: the node runs again in place with a new process', async () => {
    const { replica } = await settled();
    const a = await grid.post('nodes/' + replica.nodeId + '/restart', {});
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(a.body).toMatchObject({ nodeId: replica.nodeId, agentId: replica['agentId'], status: 'running', handedOverTo: '' });
    expect(Number(a.body['pid'])).toBeGreaterThan(0);
    expect(a.body['pid']).not.toBe(replica.pid);
    trackPid(Number(a.body['pid']));
    const after = await grid.call<Node>(`nodes/${replica.nodeId}`);
    expect(after.body).toMatchObject({ status: 'running', pid: a.body['pid'] });
  });

  it('POST nodes/:id/promote: a caught-up replica takes over as the CLI promote --json says', async () => {
    const { leader, replica } = await settled();
    const term = leader.replication?.term ?? 0;
    // The leader itself cannot be promoted: refused as gRPC refuses it.
    expectProblem(await grid.post(`nodes/${leader.nodeId}/promote`, {}), 409, 'FAILED_PRECONDITION');
    const a = await grid.post(`nodes/${replica.nodeId}/promote`, {});
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(a.body).toMatchObject({ cluster: 'kg', nodeId: replica.nodeId, previousLeader: leader.nodeId, term: term + 1 });
    expect(typeof a.body['logPosition']).toBe('number');
    const now = await eventually(async () => {
      const n = (await grid.call<Node>(`nodes/${replica.nodeId}`)).body;
      return n.role === 'leader' ? n : undefined;
    }, 30_000);
    expect(now.nodeId).toBe(replica.nodeId);
  });

  it('refuses actions on unknown or malformed nodes, and bodies they do not take', async () => {
    expectProblem(await grid.post('nodes/ghost/restart', {}), 404, 'NOT_FOUND');
    expectProblem(await grid.post('nodes/ghost/promote', {}), 404, 'NOT_FOUND');
    expectProblem(await grid.post('nodes/-bad/restart', {}), 400, 'INVALID_ARGUMENT', 'id');
    expectProblem(await grid.post('nodes/kg-0/restart', { now: true }), 400, 'INVALID_ARGUMENT', 'now');
  });
});

describe('HTTP API: drain', () => {
  it('POST agents/:id/drain: recorded with its deadline, shown in GET agents, ended by uncordon', async () => {
    const before = Date.now();
    const a = await grid.post('agents/a3/drain', { deadline: '90s', reason: 'kernel update' });
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    // a3 holds no node of a declared cluster: drained as soon as it is cordoned.
    expect(a.body).toMatchObject({ agentId: 'a3', drain: 'drained', reason: 'kernel update', changed: true });
    const deadline = Number(a.body['drainDeadlineMs']);
    expect(deadline).toBeGreaterThanOrEqual(before + 90_000);
    expect(deadline).toBeLessThan(Date.now() + 90_000 + 1);
    const listed = (await grid.call<{ agents: Array<Record<string, unknown>> }>('agents')).body.agents.find((x) => x['id'] === 'a3');
    expect(listed).toMatchObject({ cordoned: true, cordonedBy: 'operator', cordonReason: 'kernel update', drainDeadlineMs: deadline });
    expect((await grid.post('agents/a3/uncordon', {})).body).toMatchObject({ cordoned: false });
  });

  it('takes the default deadline of 5 minutes and refuses bad deadlines naming the field', async () => {
    const before = Date.now();
    const a = await grid.post('agents/a3/drain', {});
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(Number(a.body['drainDeadlineMs'])).toBeGreaterThanOrEqual(before + 5 * 60_000);
    await grid.post('agents/a3/uncordon', {});
    expectProblem(await grid.post('agents/a3/drain', { deadline: 'soon' }), 400, 'INVALID_ARGUMENT', 'deadline');
    expectProblem(await grid.post('agents/a3/drain', { deadline: '48h' }), 400, 'INVALID_ARGUMENT', 'deadline');
    expectProblem(await grid.post('agents/a3/drain', { deadline: '0s' }), 400, 'INVALID_ARGUMENT', 'deadline');
    expectProblem(await grid.post('agents/a3/drain', { deadline: 5 }), 400, 'INVALID_ARGUMENT', 'deadline');
    expectProblem(await grid.post('agents/ghost/drain', {}), 404, 'NOT_FOUND');
    expect((await grid.call<{ agents: Array<Record<string, unknown>> }>('agents')).body.agents.find((x) => x['id'] === 'a3')).toMatchObject({ cordoned: false });
  });
});
