/**
 * The provider's methods called directly against a real master and real agents: the failure
 * paths a `pulumi up` can meet, each with its code and a message naming what is wrong, and the
 * retries that finish what a failed create left.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as impl from '../../provider/pulumi/grid-provider-impl.js';
import { GridInitError, PulumiGridError } from '../../provider/pulumi/errors.js';
import { cleanup } from '../helpers/processes.js';
import { expectRunning, startLiveGrid, specFor, type LiveGrid } from './support/live-grid.js';

const TOKEN = 'tok-impl-91c4';
let grid: LiveGrid;

function inputs(nodes: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { spec: specFor(grid, nodes), masterAddress: grid.masterAddress, token: TOKEN, convergeTimeout: '60s', ...extra };
}

async function failure(p: Promise<unknown>): Promise<PulumiGridError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PulumiGridError);
  return err as PulumiGridError;
}

beforeAll(async () => {
  grid = await startLiveGrid({ agentIds: ['agent-1', 'agent-2'], token: TOKEN });
}, 120_000);

afterAll(async () => {
  await cleanup();
}, 60_000);

describe('Grid provider against a live master', () => {
  it('fails check on a token the master refuses, naming the token but not its value', async () => {
    const result = await impl.check({}, inputs(1, { token: 'wrong-token-value' }));
    expect(result.failures).toEqual([{ property: 'token', reason: expect.stringMatching(/refused the credential/) }]);
    expect(result.failures![0]!.reason).not.toContain('wrong-token-value');
  });

  it('finishes a create that timed out: the error carries the id and state, the next update converges', async () => {
    // GIVEN a create whose wait is far too short for storage nodes to start
    const checked = (await impl.check({}, inputs(2, { convergeTimeout: '1ms' }))).inputs;
    const err = await failure(impl.create(checked));
    // THEN it is a partial failure: the engine keeps the resource, naming what did not converge
    expect(err).toBeInstanceOf(GridInitError);
    const init = err as GridInitError;
    expect(init.code).toBe('GRID_CONVERGE_TIMEOUT');
    expect(init.id).toBe(grid.masterAddress);
    expect(init.reasons.join('\n')).toMatch(/cluster kg|still planned/);
    expect(init.properties['generation']).toBeGreaterThan(0);

    // WHEN the next up updates the recorded resource
    const { outs } = await impl.update(init.id, init.properties, (await impl.check({}, inputs(2))).inputs);
    // THEN the grid converges, with no second apply needed
    expect(outs.generation).toBe(init.properties['generation']);
    expect(outs.placements).toHaveLength(2);
    await expectRunning(grid, 'kg', 2);
  });

  it('a create retried after it succeeded adopts the grid instead of failing', async () => {
    const { id, outs } = await impl.create((await impl.check({}, inputs(2))).inputs);
    expect(id).toBe(grid.masterAddress);
    expect(outs.placements).toHaveLength(2);
  });

  it('refuses an update over a spec changed behind the stack, naming both generations', async () => {
    const current = await grid.master((m) => m.getSpec());
    const stale = { ...inputs(2), generation: current.generation - 1 };
    const err = await failure(impl.update(grid.masterAddress, stale, inputs(3)));
    expect(err.code).toBe('GRID_STALE_GENERATION');
    expect(err.message).toContain(String(current.generation));
    expect(err.message).toMatch(/pulumi refresh/);
  });

  it('refuses to create over another grid on the same master', async () => {
    const err = await failure(impl.create((await impl.check({}, { ...inputs(1), spec: specFor(grid, 1, 'other') })).inputs));
    expect(err.code).toBe('GRID_CONFLICT');
    expect(err.message).toMatch(/holds grid "lab"/);
    expect(err.message).toMatch(/"other"/);
  });

  it('reads by id alone, taking the token from SUTRA_GRID_TOKEN', async () => {
    process.env['SUTRA_GRID_TOKEN'] = TOKEN;
    try {
      const read = await impl.read(grid.masterAddress);
      expect(read.id).toBe(grid.masterAddress);
      expect(read.inputs?.spec).toEqual(specFor(grid, 2));
      expect(read.props?.placements).toHaveLength(2);
    } finally {
      delete process.env['SUTRA_GRID_TOKEN'];
    }
    const err = await failure(impl.read(grid.masterAddress));
    expect(err.code).toBe('GRID_UNAUTHENTICATED');
  });

  it('deletes, leaves another grid alone, and is idempotent', async () => {
    const state = { ...inputs(2), generation: (await grid.master((m) => m.getSpec())).generation };
    // Another grid's resource must not remove this one.
    await impl.delete(grid.masterAddress, { ...state, spec: specFor(grid, 2, 'other') });
    expect((await grid.master((m) => m.getSpec())).specJson).not.toBe('');

    await impl.delete(grid.masterAddress, state);
    await expectRunning(grid, 'kg', 0);
    expect((await grid.master((m) => m.getSpec())).specJson).toBe('');
    await impl.delete(grid.masterAddress, state);
    expect((await impl.read(grid.masterAddress, state)).id).toBe('');
  });

  it('reports nodes the master cannot place, by cluster and agent, as a partial failure', async () => {
    // A cluster pinned to a declared agent that never registered.
    const spec = specFor(grid, 2) as { agents: unknown[]; clusters: Record<string, unknown>[] };
    spec.agents.push({ id: 'agent-9', capacity: { nodes: 2 } });
    spec.clusters[0]!['placement'] = { agents: ['agent-9'] };
    const checked = await impl.check({}, { ...inputs(2), spec });
    // The preview already shows it...
    expect(checked.failures).toEqual([]);
    expect(checked.inputs.plannedChanges).toEqual([expect.stringMatching(/cluster kg: .*agent-9/)]);
    // ...and up fails with the resource recorded, so fixing the spec is an update.
    const err = await failure(impl.create(checked.inputs));
    expect(err.code).toBe('GRID_UNPLACED');
    expect((err as GridInitError).reasons).toEqual([expect.stringMatching(/cluster kg: 2 of 2 nodes unplaced: agent-9/)]);
    expect((err as GridInitError).id).toBe(grid.masterAddress);
    await impl.delete(grid.masterAddress, (err as GridInitError).properties);
  });

  it('says how to drop the resource when its master is gone', async () => {
    const err = await failure(impl.delete('127.0.0.1:1', { ...inputs(1), masterAddress: '127.0.0.1:1' }));
    expect(err.code).toBe('GRID_MASTER_UNREACHABLE');
    expect(err.field).toBe('masterAddress');
    expect(err.message).toMatch(/^masterAddress: master 127\.0\.0\.1:1 \(GetSpec\) is unreachable: .*pulumi state delete/s);
  });
});
