/**
 * The serialized `Grid` provider inside the real dynamic-provider host, without a master: what
 * the state holds, that the implementation is loaded from the installed package at call time,
 * and check/diff over gRPC. The full lifecycle against a live grid is grid-lifecycle.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIFF, DynamicHost } from './support/dynamic-host.js';
import { createProjectDir, type ProjectDir } from './support/project-dir.js';
import { registerGrid, type RegisteredGrid } from './support/serialized-provider.js';
import { SECRET_SIG, SPECIAL_SIG_KEY } from '../../provider/pulumi/wire.js';

const TOKEN = 'tok-7f3e9c1d-never-in-state';
// Nothing listens on port 1: the provider must work (check, diff) with the master down.
const DOWN = '127.0.0.1:1';
const spec = {
  name: 'lab',
  agents: [{ id: 'agent-1', capacity: { nodes: 2 } }],
  clusters: [{ name: 'kg', nodes: 2 }],
};
const URN = 'urn:pulumi:test::grid::pulumi-nodejs:dynamic/sutra-grid:Grid::grid';

let registered: RegisteredGrid;
let project: ProjectDir;
let host: DynamicHost;

beforeAll(async () => {
  [registered, project] = await Promise.all([registerGrid({ spec, masterAddress: DOWN, token: TOKEN }), createProjectDir()]);
  host = await DynamicHost.start(project.dir, { ...process.env, SUTRA_GRID_TOKEN: '' });
});

afterAll(async () => {
  await host?.stop();
  await project?.remove();
});

describe('the serialized provider', () => {
  it('holds no token, no client and no implementation, only the loader', () => {
    const text = registered.providerText;
    expect(text).not.toContain(TOKEN);
    // The implementation's names never appear: it is loaded at call time, not captured.
    for (const impl of ['applySpec', 'ApplySpec', 'GridMasterClient', 'withMaster', 'waitConverged', 'grpc']) {
      expect(text).not.toContain(impl);
    }
    expect(text).toContain('sutra-grid/dist/provider/pulumi/grid-provider-impl.js');
    expect(text).toMatch(/exports\.handler/);
  });

  it('registers the token as a secret even though the program passed a plain string', () => {
    expect(registered.inputs['token']).toEqual({ [SPECIAL_SIG_KEY]: SECRET_SIG, value: TOKEN });
  });
});

describe('the dynamic-provider host', () => {
  it('does not accept secrets, so the engine unwraps them before each call', async () => {
    expect(await host.configure()).toEqual({ acceptSecrets: false });
  });

  it('returns every spec problem as a check failure with its property path', async () => {
    const bad = { ...spec, clusters: [{ name: 'KG', nodes: 0 }] };
    const { failures } = await host.check(URN, {}, { spec: bad, masterAddress: DOWN, __provider: registered.providerText });
    const properties = failures.map((f) => f.property);
    expect(properties).toEqual(expect.arrayContaining(['spec.clusters[0].name', 'spec.clusters[0].nodes']));
  });

  it('checks valid inputs with the master down: token back as a secret, no plan', async () => {
    const { inputs, failures } = await host.check(URN, {}, { spec, masterAddress: DOWN, token: TOKEN, __provider: registered.providerText });
    expect(failures).toEqual([]);
    expect(inputs['token']).toEqual({ [SPECIAL_SIG_KEY]: SECRET_SIG, value: TOKEN });
    expect(inputs['plannedChanges']).toBeUndefined();
    expect(inputs['spec']).toEqual(spec);
  });

  it('replaces (delete first) only when the master changes', async () => {
    const olds = { spec, masterAddress: DOWN, generation: 1 };
    const moved = await host.diff(URN, DOWN, olds, { spec, masterAddress: '127.0.0.1:2', __provider: registered.providerText }, olds);
    expect(moved).toEqual({ changes: DIFF.SOME, replaces: ['masterAddress'], deleteBeforeReplace: true });

    const grown = { ...spec, clusters: [{ name: 'kg', nodes: 3 }] };
    const resized = await host.diff(URN, DOWN, olds, { spec: grown, masterAddress: DOWN, __provider: registered.providerText }, olds);
    expect(resized).toEqual({ changes: DIFF.SOME, replaces: [], deleteBeforeReplace: false });

    const same = await host.diff(URN, DOWN, olds, { spec, masterAddress: DOWN, __provider: registered.providerText }, olds);
    expect(same.changes).toBe(DIFF.NONE);
  });

  it('reports an unreachable master by address when creating', async () => {
    const err = await host.create(URN, { spec, masterAddress: DOWN, __provider: registered.providerText }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/master 127\.0\.0\.1:1 \(GetSpec\) is unreachable/);
  });
});

describe('upgrading the installed package', () => {
  it('changes what the same serialized provider runs', async () => {
    // GIVEN the state's provider text, and a new version of the package installed
    await project.replaceImpl(
      'export async function check() { return { failures: [{ property: "spec", reason: "upgraded implementation" }] }; }\n',
    );
    const next = await DynamicHost.start(project.dir);
    try {
      // WHEN the next operation's host runs that same text
      const { failures } = await next.check(URN, {}, { spec, masterAddress: DOWN, __provider: registered.providerText });
      // THEN it runs the upgraded code, not a copy frozen into the state
      expect(failures).toEqual([{ property: 'spec', reason: 'upgraded implementation' }]);
    } finally {
      await next.stop();
      await project.reinstall();
    }
  });
});
