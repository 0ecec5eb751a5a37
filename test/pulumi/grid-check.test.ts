import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInputs } from '../../provider/pulumi/grid-check.js';
import { pointerToPropertyPath } from '../../provider/pulumi/grid-inputs.js';
import { SECRET_SIG, SPECIAL_SIG_KEY, UNKNOWN_VALUE, wireSecret } from '../../provider/pulumi/wire.js';

const validSpec = {
  name: 'lab',
  master: { address: '127.0.0.1:7123' },
  agents: [{ id: 'agent-1', capacity: { nodes: 2 } }],
  clusters: [{ name: 'kg', nodes: 2 }],
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'grid-check-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('wire constants', () => {
  it('match the Pulumi SDK the host uses', () => {
    expect(SPECIAL_SIG_KEY).toBe(pulumi.runtime.specialSigKey);
    expect(SECRET_SIG).toBe(pulumi.runtime.specialSecretSig);
    expect(UNKNOWN_VALUE).toBe(pulumi.runtime.unknownValue);
  });
});

describe('pointerToPropertyPath', () => {
  it('turns JSON pointers into Pulumi property paths', () => {
    expect(pointerToPropertyPath('/clusters/0/nodes')).toBe('spec.clusters[0].nodes');
    expect(pointerToPropertyPath('')).toBe('spec');
    expect(pointerToPropertyPath('/agents/1/labels/topology.kubernetes.io~1zone')).toBe(
      'spec.agents[1].labels["topology.kubernetes.io/zone"]',
    );
  });
});

describe('checkInputs', () => {
  it('accepts a valid spec, defaults masterAddress from the spec and wraps the token as a secret', async () => {
    const { inputs, failures } = await checkInputs({ spec: validSpec, token: 's3cret-token' });
    expect(failures).toEqual([]);
    expect(inputs.masterAddress).toBe('127.0.0.1:7123');
    expect(inputs.token).toEqual(wireSecret('s3cret-token'));
  });

  it('reports every spec problem with its property path, not just the first', async () => {
    const bad = {
      ...validSpec,
      agents: [{ id: 'Agent_1', capacity: { nodes: 2 } }],
      clusters: [{ name: 'kg', nodes: 0 }],
    };
    const { failures } = await checkInputs({ spec: bad });
    const properties = failures.map((f) => f.property);
    expect(properties).toContain('spec.clusters[0].nodes');
    expect(properties).toContain('spec.agents[0].id');
    expect(failures.length).toBeGreaterThanOrEqual(2);
  });

  it('reads specFile at check time and reports problems with file:line:col', async () => {
    const file = join(dir, 'grid.yaml');
    await writeFile(file, 'name: lab\nagents:\n  - id: agent-1\n    capacity: { nodes: 1 }\nclusters:\n  - name: kg\n    nodes: -3\n');
    const { failures } = await checkInputs({ specFile: file });
    const nodes = failures.find((f) => f.property === 'spec.clusters[0].nodes');
    expect(nodes?.reason).toMatch(/grid\.yaml:7:\d+/);

    await writeFile(file, 'name: lab\nagents:\n  - id: agent-1\n    capacity: { nodes: 1 }\n');
    const ok = await checkInputs({ specFile: file });
    expect(ok.failures).toEqual([]);
    // The file's content lands in `spec`, so an edit to the file is a diff even with the same path.
    expect(ok.inputs.spec).toMatchObject({ name: 'lab' });
  });

  it('names the field for provider inputs and never echoes the token', async () => {
    const { failures } = await checkInputs({
      spec: validSpec,
      specFile: 'grid.yaml',
      masterAddress: 'no-port',
      convergeTimeout: 'soon',
      token: '',
    });
    const byProperty = new Map(failures.map((f) => [f.property, f.reason]));
    expect(byProperty.get('specFile')).toMatch(/either spec .* or specFile/);
    expect(byProperty.get('masterAddress')).toMatch(/host:port/);
    expect(byProperty.get('convergeTimeout')).toBeDefined();
    expect(byProperty.get('token')).toMatch(/non-empty/);
  });

  it('requires a spec and reports an unreadable specFile', async () => {
    expect((await checkInputs({})).failures).toEqual([expect.objectContaining({ property: 'spec' })]);
    const missing = await checkInputs({ specFile: join(dir, 'nope.yaml') });
    expect(missing.failures).toEqual([expect.objectContaining({ property: 'specFile', reason: expect.stringMatching(/cannot read/) })]);
  });

  it('passes unknown values (preview with computed inputs) through unchecked', async () => {
    const { failures } = await checkInputs({ spec: UNKNOWN_VALUE, masterAddress: UNKNOWN_VALUE });
    expect(failures).toEqual([]);
  });
});
