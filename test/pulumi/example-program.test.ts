/**
 * examples/pulumi/index.ts as Pulumi would run it (under mocks here): it registers one Grid whose
 * inputs the provider accepts when run from the example's project directory.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check } from '../../provider/pulumi/grid-provider-impl.js';
import { SECRET_SIG, SPECIAL_SIG_KEY } from '../../provider/pulumi/wire.js';
import { unwrapSecrets } from './support/engine-sim.js';

const exampleDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../examples/pulumi');
const TOKEN = 'tok-example-3a1f';
const registered: { type: string; inputs: Record<string, unknown> }[] = [];
const startDir = process.cwd();

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (a) => {
        registered.push({ type: a.type, inputs: a.inputs as Record<string, unknown> });
        return { id: '127.0.0.1:7000', state: { ...a.inputs, generation: 1, placements: [], clusterHealth: [] } };
      },
      call: () => ({}),
    },
    'sutra-grid-pulumi',
    'dev',
    false,
  );
  pulumi.runtime.setAllConfig({ 'sutra-grid-pulumi:token': TOKEN }, ['sutra-grid-pulumi:token']);
  const program = (await import('../../examples/pulumi/index.js')) as { generation: pulumi.Output<number> };
  await new Promise((done) => program.generation.apply(done));
});

afterAll(() => {
  process.chdir(startDir);
});

describe('examples/pulumi', () => {
  it('registers one Grid from examples/local/grid.yaml with the token as a secret', () => {
    expect(registered).toHaveLength(1);
    const [grid] = registered;
    expect(grid!.type).toBe('pulumi-nodejs:dynamic/sutra-grid:Grid');
    expect(grid!.inputs).toMatchObject({ specFile: '../local/grid.yaml', convergeTimeout: '5m' });
    expect(grid!.inputs['token']).toEqual({ [SPECIAL_SIG_KEY]: SECRET_SIG, value: TOKEN });
    expect(grid!.inputs['__provider']).not.toContain(TOKEN);
  });

  it('passes check from the project directory, where Pulumi runs the provider', async () => {
    process.chdir(exampleDir);
    // Port 1: no master, so check validates without a plan.
    const inputs = { ...(unwrapSecrets(registered[0]!.inputs) as Record<string, unknown>), masterAddress: '127.0.0.1:1' };
    const result = await check({}, inputs);
    expect(result.failures).toEqual([]);
    expect(result.inputs.spec).toMatchObject({ name: 'local', clusters: [{ name: 'kg', nodes: 3 }] });
  });
});
