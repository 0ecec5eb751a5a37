/**
 * The `Grid` resource's whole life as the Pulumi engine drives it: the provider text a program
 * serializes, run by the real dynamic-provider host, against a real master and real agents.
 * preview -> up -> preview (no changes) -> resize -> out-of-band change seen as drift -> import
 * by address -> destroy.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, eventually } from '../helpers/processes.js';
import { DynamicHost } from './support/dynamic-host.js';
import { EngineSim, redactSecrets } from './support/engine-sim.js';
import { expectRunning, startLiveGrid, specFor, type LiveGrid } from './support/live-grid.js';
import { createProjectDir, type ProjectDir } from './support/project-dir.js';
import { registerGrid } from './support/serialized-provider.js';

const TOKEN = 'tok-lifecycle-5b8d0e2a';

let grid: LiveGrid;
let project: ProjectDir;
let host: DynamicHost;
let providerText: string;
let engine: EngineSim;

type Placement = { nodeId: string; agentId: string; port: number; role: string; cluster: string; status: string };

function program(nodes: number): Record<string, unknown> {
  return { spec: specFor(grid, nodes), masterAddress: grid.masterAddress, token: TOKEN, convergeTimeout: '60s' };
}

beforeAll(async () => {
  let registered;
  [grid, project, registered] = await Promise.all([
    startLiveGrid({ agentIds: ['agent-1', 'agent-2'], token: TOKEN }),
    createProjectDir(),
    registerGrid({ spec: { name: 'lab', agents: [{ id: 'agent-1', capacity: { nodes: 1 } }] }, token: TOKEN }),
  ]);
  providerText = registered.providerText;
  // As the engine does: the host runs in the project directory, without the operator's token.
  host = await DynamicHost.start(project.dir, { ...process.env, SUTRA_GRID_TOKEN: '' });
  expect(await host.configure()).toEqual({ acceptSecrets: false });
  engine = new EngineSim(host, providerText);
}, 120_000);

afterAll(async () => {
  await host?.stop();
  await project?.remove();
  await cleanup();
}, 60_000);

describe('Grid through the dynamic-provider host', () => {
  it('previews a new grid with the master\'s plan: which nodes go where', async () => {
    const preview = await engine.preview(program(2));
    expect(preview.op).toBe('create');
    const planned = preview.checked['plannedChanges'] as string[];
    expect(planned).toHaveLength(2);
    for (const line of planned) expect(line).toMatch(/^\+ create kg-\S+ on agent-[12] /);
  });

  it('creates: applies the spec, waits until every node runs, returns placements', async () => {
    expect(await engine.up(program(2))).toBe('create');
    const state = engine.state!;
    expect(state.id).toBe(grid.masterAddress);
    expect(state.outputs['generation']).toBeGreaterThan(0);
    const placements = state.outputs['placements'] as Placement[];
    expect(placements).toHaveLength(2);
    expect(placements.every((p) => p.status === 'running' && p.port > 0 && p.cluster === 'kg')).toBe(true);
    expect(placements.map((p) => p.role).sort()).toEqual(['leader', 'replica']);
    expect(state.outputs['clusterHealth']).toEqual([expect.objectContaining({ name: 'kg', desired: 2, running: 2 })]);
    await expectRunning(grid, 'kg', 2);
  });

  it('keeps the token out of the state except as a secret', () => {
    const state = engine.state!;
    expect(JSON.stringify(state)).toContain(TOKEN);
    expect(JSON.stringify(redactSecrets(state))).not.toContain(TOKEN);
    expect(providerText).not.toContain(TOKEN);
  });

  it('previews no changes right after up (--expect-no-changes)', async () => {
    const preview = await engine.preview(program(2));
    expect(preview.op).toBe('same');
    expect(preview.checked['plannedChanges']).toBeUndefined();
  });

  it('updates in place when the node count changes, and the preview says which node is added', async () => {
    const preview = await engine.preview(program(3));
    expect(preview.op).toBe('update');
    expect(preview.checked['plannedChanges']).toEqual([expect.stringMatching(/^\+ create kg-\S+ on agent-[12] /)]);
    const before = engine.state!.outputs['generation'] as number;
    expect(await engine.up(program(3))).toBe('update');
    expect(engine.state!.outputs['generation']).toBeGreaterThan(before);
    expect(engine.state!.outputs['placements']).toHaveLength(3);
    await expectRunning(grid, 'kg', 3);
  });

  it('shows an out-of-band change on the master as drift, then converges back', async () => {
    // GIVEN an operator shrinks the cluster directly on the master
    const generation = engine.state!.outputs['generation'] as number;
    await grid.master((m) => m.applySpec(JSON.stringify(specFor(grid, 1)), generation, false));

    // THEN a preview already sees that up would act, and an up without refresh refuses to overwrite
    expect((await engine.preview(program(3))).op).toBe('update');
    await expect(engine.up(program(3))).rejects.toThrow(/pulumi refresh/);

    // WHEN refreshing, the live spec replaces the stored one: drift
    const refreshed = await engine.refresh();
    expect(refreshed).toEqual({ gone: false, drift: true });
    const liveSpec = engine.state!.outputs['spec'] as { clusters: { nodes: number }[] };
    expect(liveSpec.clusters[0]!.nodes).toBe(1);
    expect(engine.state!.outputs['generation']).toBe(generation + 1);

    // AND the next up brings the grid back to the program's 3 nodes
    expect(await engine.up(program(3))).toBe('update');
    await expectRunning(grid, 'kg', 3);
    expect((await engine.preview(program(3))).op).toBe('same');
  });

  it('imports the grid by master address alone, with no old state', async () => {
    const fresh = new EngineSim(host, providerText);
    // The token comes from the provider's environment in an import; this host has none, so the
    // master refuses, naming the token.
    await expect(fresh.import(grid.masterAddress)).rejects.toThrow(/refused the credential/);

    const withToken = await DynamicHost.start(project.dir, { ...process.env, SUTRA_GRID_TOKEN: TOKEN });
    try {
      const importer = new EngineSim(withToken, providerText);
      await importer.import(grid.masterAddress);
      expect(importer.state!.id).toBe(grid.masterAddress);
      expect(importer.state!.inputs['spec']).toEqual(specFor(grid, 3));
      expect(importer.state!.outputs['placements']).toHaveLength(3);
      // The imported resource matches the program: nothing to do, whether the program gives the
      // spec as an object or as a file with the same content. (Polled: on a loaded machine a node
      // of this grid may be mid-restart for a moment, and the preview rightly shows that as drift.)
      const settled = async (inputs: Record<string, unknown>): Promise<string> =>
        eventually(async () => ((await importer.preview(inputs)).op === 'same' ? 'same' : undefined), 15_000, 250).catch(async () => (await importer.preview(inputs)).op);
      expect(await settled(program(3))).toBe('same');
      await writeFile(join(project.dir, 'grid.yaml'), JSON.stringify(specFor(grid, 3)));
      const byFile = { specFile: 'grid.yaml', masterAddress: grid.masterAddress, token: TOKEN };
      expect(await settled(byFile)).toBe('same');
    } finally {
      await withToken.stop();
    }
  });

  it('replaces the grid when it moves to another master, deleting the old one first', async () => {
    // GIVEN a second master with its own agents
    const next = await startLiveGrid({ agentIds: ['agent-1', 'agent-2'], token: TOKEN });
    const moved = { ...program(3), masterAddress: next.masterAddress };
    const preview = await engine.preview(moved);
    expect(preview).toMatchObject({ op: 'replace', replaces: ['masterAddress'], deleteBeforeReplace: true });
    // WHEN up runs the replacement
    expect(await engine.up(moved)).toBe('replace');
    // THEN the old master holds nothing, and the new one runs the grid
    expect(engine.calls.slice(-2)).toEqual(['delete', 'create']);
    expect((await grid.master((m) => m.getSpec())).specJson).toBe('');
    await expectRunning(grid, 'kg', 0);
    expect(engine.state!.id).toBe(next.masterAddress);
    await expectRunning(next, 'kg', 3);
    grid = next;
  });

  it('destroys: removes the spec and waits until the nodes are stopped; a refresh then finds nothing', async () => {
    const state = engine.state!;
    await engine.destroy();
    await expectRunning(grid, 'kg', 0);
    expect((await grid.master((m) => m.getSpec())).specJson).toBe('');
    engine.state = state;
    expect(await engine.refresh()).toEqual({ gone: true, drift: true });
    expect(engine.calls).toEqual(expect.arrayContaining(['check', 'diff', 'create', 'update', 'read', 'delete']));
  });
});
