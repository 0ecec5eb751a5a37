/**
 * The one master client against a real master process: typed answers (a Plan, GridNodes, a
 * GridStatus with the reconciler's progress), and every refusal a ClientError with a stable code,
 * the master's wording and where it happened.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientError, MAX_SPEC_BYTES, MasterClient, resolveToken, withMaster } from '../../client/index.js';
import { fakeAgent, fakeNode, TestMasterClient } from '../helpers/grid-client.js';
import { cleanup, eventually, startMaster, tempDir } from '../helpers/processes.js';

afterEach(cleanup);

const SPEC = {
  name: 'lab',
  agents: [{ id: 'a1', platform: 'process', capacity: { nodes: 4 } }],
  clusters: [{ name: 'kv', nodes: 3, topology: 'standalone' }],
};

async function refusal(p: Promise<unknown>): Promise<ClientError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (err instanceof ClientError) return err;
  throw new Error(`expected a ClientError, got ${String(err)}`);
}

describe('MasterClient', () => {
  it('plans, applies, reads and deletes a spec in domain types', async () => {
    const master = await startMaster();
    await withMaster({ address: master.address }, async (m) => {
      // GIVEN an empty master
      expect(await m.getSpec()).toMatchObject({ specJson: '', generation: 0 });
      expect((await m.getClusterStatus()).reconcile).toEqual({ generation: 0, pendingActions: 0, unplaced: [], rollouts: [] });

      // WHEN a spec is planned: a typed plan, nothing stored (its agent has not registered, so nothing can be placed)
      const dry = await m.applySpec(JSON.stringify(SPEC), undefined, true);
      expect(dry).toMatchObject({ generation: 0, changed: false, plan: { actions: [], changed: false } });
      expect(dry.plan.unplaced).toEqual([{ cluster: 'kv', nodeIds: ['kv-0', 'kv-1', 'kv-2'], reason: expect.stringMatching(/^cluster kv: 3 of 3 nodes unplaced/) }]);

      // WHEN it is applied THEN it is stored as generation 1, canonical
      const applied = await m.applySpec(JSON.stringify(SPEC), 0);
      expect(applied).toMatchObject({ generation: 1, changed: true });
      expect(JSON.parse((await m.getSpec()).specJson)).toEqual(SPEC);

      // THEN the reconciler reports it has planned generation 1 and cannot place the cluster
      const status = await eventually(async () => {
        const s = await m.getClusterStatus();
        return s.reconcile.generation >= 1 && s;
      });
      expect(status).toMatchObject({ specGeneration: 1, clusters: [{ name: 'kv', desired: 3, running: 0, health: 'critical' }] });
      expect(status.reconcile).toMatchObject({ generation: 1, pendingActions: 0, unplaced: [{ cluster: 'kv', nodeIds: ['kv-0', 'kv-1', 'kv-2'] }] });

      // WHEN it is deleted by generation THEN the generation moves on and no spec is held
      expect(await m.deleteSpec(1, 'lab')).toBe(2);
      expect((await m.getSpec()).specJson).toBe('');
    });
  });

  it('lists nodes as GridNodes, filtered by agent and cluster, and answers other calls in wire types', async () => {
    const master = await startMaster();
    const agent = new TestMasterClient(master.address);
    try {
      await agent.register(fakeAgent('a1'), [fakeNode('n1', 'a1', { pid: 11, port: 7101 }), fakeNode('kv-0', 'a1', { cluster: 'kv', role: 'standalone', status: 'starting' })]);
      await agent.register(fakeAgent('a2'), [fakeNode('n2', 'a2', { status: 'stopped' })]);
      await withMaster({ address: master.address }, async (m) => {
        expect((await m.listNodes()).map((n) => `${n.agentId}/${n.nodeId}:${n.status}`).sort()).toEqual(['a1/kv-0:starting', 'a1/n1:running', 'a2/n2:stopped']);
        expect((await m.listNodes({ agentId: 'a1', cluster: 'kv' })).map((n) => n.nodeId)).toEqual(['kv-0']);
        expect((await m.listNodes({ agentId: 'a2' }))[0]).toMatchObject({ nodeId: 'n2', status: 'stopped', role: '', cluster: '' });
        expect((await m.call('listAgents', {})).agents.map((a) => a.info?.agentId).sort()).toEqual(['a1', 'a2']);
        expect(await m.lastEventIndex()).toBeGreaterThan(0);
      });
    } finally {
      agent.close();
    }
  });

  it('refuses with stable codes: stale generation, invalid spec, oversized spec (never sent), wrong grid', async () => {
    const master = await startMaster();
    await withMaster({ address: master.address }, async (m) => {
      await m.applySpec(JSON.stringify(SPEC), 0);
      const stale = await refusal(m.applySpec(JSON.stringify({ ...SPEC, clusters: [] }), 0));
      expect(stale).toMatchObject({ code: 'STALE_GENERATION', context: { rpc: 'ApplySpec', status: GrpcStatus.FAILED_PRECONDITION, address: master.address } });
      expect(stale.message).toMatch(/expected_generation 0 is stale/);

      const invalid = await refusal(m.applySpec(JSON.stringify({ name: 'lab', agents: [{ id: 'a1', colour: 'red' }] })));
      expect(invalid).toMatchObject({ code: 'SPEC_INVALID', context: { rpc: 'ApplySpec' } });
      expect(invalid.message).toMatch(/^spec_json: invalid spec/);

      const big = await refusal(m.applySpec(JSON.stringify(SPEC) + ' '.repeat(MAX_SPEC_BYTES)));
      expect(big).toMatchObject({ code: 'SPEC_INVALID', context: { field: 'spec_json', limit: MAX_SPEC_BYTES } });
      expect(big.context['rpc']).toBeUndefined();
      expect(big.message).toContain(`not sent to master ${master.address}`);

      const otherGrid = await refusal(m.deleteSpec(undefined, 'other'));
      expect(otherGrid).toMatchObject({ code: 'STALE_GENERATION', context: { rpc: 'DeleteSpec' } });
      // Nothing of it reached the stored spec.
      expect((await m.getSpec()).generation).toBe(1);
      // FAILED_PRECONDITION outside the declarative calls keeps its status name.
      const nodeErr = await refusal(m.call('stopStorageNode', { nodeId: 'nope', graceMs: 0 }));
      expect(nodeErr.code).toBe('NOT_FOUND');
    });
  });

  it('says when no master answers, and when the token is refused', async () => {
    const down = await refusal(withMaster({ address: '127.0.0.1:1', callTimeoutMs: 5_000 }, (m) => m.getSpec()));
    expect(down).toMatchObject({ code: 'UNAVAILABLE', context: { unreachable: true, rpc: 'GetSpec' } });
    expect(down.message).toMatch(/^cannot reach the master at 127\.0\.0\.1:1: /);

    const tokenFile = join(tempDir('token-'), 'token');
    writeFileSync(tokenFile, 's3cret\n');
    const master = await startMaster({ args: ['--token-file', tokenFile] });
    const denied = await refusal(withMaster({ address: master.address }, (m) => m.listNodes()));
    expect(denied).toMatchObject({ code: 'UNAUTHENTICATED', context: { unreachable: false, rpc: 'ListNodes' } });
    // The one token resolver: a file, a value, the environment.
    const token = resolveToken({ file: tokenFile }, {});
    expect(token).toBe('s3cret');
    expect(resolveToken({ value: 'v' }, { SUTRA_GRID_TOKEN: 'e' })).toBe('v');
    expect(resolveToken({}, { SUTRA_GRID_TOKEN: ' e ' })).toBe('e');
    const client = new MasterClient({ address: master.address, token });
    try {
      expect(await client.listNodes()).toEqual([]);
    } finally {
      client.close();
    }
  });
});
