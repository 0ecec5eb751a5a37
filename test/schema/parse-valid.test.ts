import { readFile } from 'node:fs/promises';
import { describe, expect, expectTypeOf, test } from 'vitest';
import {
  compileGridSpec,
  loadGridSpecOrThrow,
  parseGridSpec,
  SpecError,
  specHash,
  canonicalJson,
  validateGridSpecObject,
  type CompiledGridSpec,
  type GridSpecInput,
} from '../../schema/index.js';
import { scanJson } from '../../schema/json-scan.js';

describe('the examples', () => {
  test('examples/local/grid.yaml parses and compiles with no diagnostics', async () => {
    const { compiled, warnings, spec } = await loadGridSpecOrThrow('examples/local/grid.yaml');
    expect(warnings).toEqual([]);
    expect(spec.name).toBe('local');
    expect(compiled).toEqual({
      name: 'local',
      master: { address: '127.0.0.1:7000' },
      monitoring: {
        heartbeatIntervalMs: 1_000,
        degradedAfterMs: 3_000,
        offlineAfterMs: 6_000,
        replaceAfterMs: 15_000,
        restart: { maxRestarts: 3, windowMs: 60_000, backoffMs: 500 },
      },
      storage: { dataPath: './.grid/data', memoryMb: 256, portRange: { start: 50051, end: 50250 } },
      agents: [
        { id: 'agent-1', platform: 'process', address: '127.0.0.1:8101', capacity: { nodes: 4, memoryMb: 0 }, labels: {} },
        { id: 'agent-2', platform: 'process', address: '127.0.0.1:8102', capacity: { nodes: 4, memoryMb: 0 }, labels: {} },
      ],
      clusters: [
        {
          name: 'kg',
          nodes: 3,
          topology: 'leader-replicas',
          replication: { durability: 'sync', syncQuorum: 1, syncTimeoutMs: 5_000 },
          update: { maxUnavailable: 1, maxSurge: 1, minHealthyMs: 10_000, healthyDeadlineMs: 300_000, autoRevert: false },
          memoryMb: 256,
          placement: { strategy: 'spread', agents: [], selector: {} },
        },
      ],
    } satisfies CompiledGridSpec);
  });

  test('examples/labels/grid.yaml shows labels, pins and binpack', async () => {
    const { compiled, warnings } = await loadGridSpecOrThrow('examples/labels/grid.yaml');
    expect(warnings).toEqual([]);
    expect(compiled.agents.map((a) => [a.id, a.labels, a.capacity.memoryMb])).toEqual([
      ['ssd-1', { zone: 'a', disk: 'ssd' }, 2048],
      ['hdd-1', { zone: 'a', disk: 'hdd' }, 2048],
      ['hdd-2', { zone: 'b', disk: 'hdd' }, 2048],
    ]);
    expect(compiled.clusters.map((c) => [c.name, c.placement.strategy, c.placement.agents, c.placement.selector, c.memoryMb])).toEqual([
      ['index', 'spread', ['ssd-1', 'hdd-2'], {}, 512],
      ['cache', 'binpack', [], { disk: 'hdd' }, 128],
      ['logs', 'spread', [], { zone: 'a' }, 256],
    ]);
  });

  test('both examples point editors at the schema', async () => {
    for (const file of ['examples/local/grid.yaml', 'examples/labels/grid.yaml']) {
      const first = (await readFile(file, 'utf8')).split('\n')[0];
      expect(first).toBe('# yaml-language-server: $schema=../../schema/grid.schema.json');
    }
  });
});

describe('defaults and units', () => {
  const minimal = { name: 'tiny', agents: [{ id: 'a', capacity: { nodes: 2 } }], clusters: [{ name: 'c', nodes: 1 }] };

  test('a minimal spec gets every documented default', () => {
    expect(compileGridSpec(minimal)).toEqual({
      name: 'tiny',
      master: { address: '127.0.0.1:7000' },
      monitoring: {
        heartbeatIntervalMs: 5_000,
        degradedAfterMs: 15_000,
        offlineAfterMs: 30_000,
        replaceAfterMs: 60_000,
        restart: { maxRestarts: 3, windowMs: 60_000, backoffMs: 1_000 },
      },
      storage: { dataPath: './.grid/data', memoryMb: 256, portRange: { start: 50051, end: 50250 } },
      agents: [{ id: 'a', platform: 'process', capacity: { nodes: 2, memoryMb: 0 }, labels: {} }],
      clusters: [{ name: 'c', nodes: 1, topology: 'standalone', replication: { durability: 'async', syncQuorum: 1, syncTimeoutMs: 5_000 }, update: { maxUnavailable: 1, maxSurge: 1, minHealthyMs: 10_000, healthyDeadlineMs: 300_000, autoRevert: false }, memoryMb: 256, placement: { strategy: 'spread', agents: [], selector: {} } }],
    });
  });

  test('defaults are applied to a copy: the input is not changed', () => {
    const input = structuredClone(minimal);
    compileGridSpec(input);
    expect(input).toEqual(minimal);
  });

  test('sizes and durations in every spelling compile to MiB and ms', () => {
    const compiled = compileGridSpec({
      name: 'units',
      monitoring: { heartbeatInterval: '500ms', degradedAfter: '1.5s', offlineAfter: '1m30s', replaceAfter: '1h' },
      storage: { memory: 512, binary: '/opt/storage-server' },
      agents: [{ id: 'a', platform: 'docker', capacity: { nodes: 8, memory: '1.5Gi' } }],
      clusters: [{ name: 'c', nodes: 2, memory: '256M' }],
    });
    expect(compiled.monitoring).toMatchObject({ heartbeatIntervalMs: 500, degradedAfterMs: 1_500, offlineAfterMs: 90_000, replaceAfterMs: 3_600_000 });
    expect(compiled.storage).toMatchObject({ memoryMb: 512, binary: '/opt/storage-server' });
    expect(compiled.agents[0]?.capacity.memoryMb).toBe(1536);
    expect(compiled.clusters[0]?.memoryMb).toBe(245);
  });

  test('compileGridSpec throws a SpecError with pointers, without line numbers', () => {
    let caught: unknown;
    try {
      compileGridSpec({ name: 'x', agents: [{ id: 'a', capacity: { nodes: 1 } }], clusters: [{ name: 'c', nodes: 2 }, { name: 'c', nodes: 1 }] });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SpecError);
    const error = caught as SpecError;
    expect(error.diagnostics.map((d) => [d.code, d.pointer, d.line])).toEqual([
      ['SPEC_DUPLICATE_ID', '/clusters/1/name', undefined],
      ['SPEC_CAPACITY', '/clusters/0/nodes', undefined],
    ]);
  });

  test('JSON text goes through the same parser, with positions in the JSON', () => {
    const json = JSON.stringify({ ...minimal, clusters: [{ name: 'c', nodes: 'one' }] }, null, 2);
    const result = parseGridSpec(json, 'spec.json');
    expect(result.ok).toBe(false);
    expect(result.diagnostics.map((d) => [d.code, d.pointer, d.line, d.col])).toEqual([['SPEC_SCHEMA', '/clusters/0/nodes', 14, 16]]);
  });

  test('validateGridSpecObject accepts what the parser accepts', async () => {
    const text = await readFile('examples/labels/grid.yaml', 'utf8');
    const fromText = parseGridSpec(text, 'grid.yaml');
    if (!fromText.ok) throw new Error('example must parse');
    const fromObject = validateGridSpecObject(JSON.parse(JSON.stringify(fromText.spec)));
    expect(fromObject.ok && fromObject.compiled).toEqual(fromText.compiled);
  });
});

describe('specHash', () => {
  test('ignores key order and formatting, changes with any value', () => {
    const a = parseGridSpec('name: h\nagents: [{ id: a, capacity: { nodes: 1 } }]\n', 'a.yaml');
    const b = parseGridSpec('agents:\n  - capacity:\n      nodes: 1\n    id: a\nname: h\n', 'b.yaml');
    const c = parseGridSpec('name: h\nagents: [{ id: a, capacity: { nodes: 2 } }]\n', 'c.yaml');
    if (!a.ok || !b.ok || !c.ok) throw new Error('specs must parse');
    expect(specHash(a.compiled)).toMatch(/^[0-9a-f]{64}$/);
    expect(specHash(b.compiled)).toBe(specHash(a.compiled));
    expect(specHash(c.compiled)).not.toBe(specHash(a.compiled));
    // Defaults written out explicitly compile to the same spec, hence the same hash.
    const explicit = parseGridSpec('name: h\nmonitoring: { heartbeatInterval: 5000ms }\nagents: [{ id: a, platform: process, capacity: { nodes: 1 } }]\n', 'd.yaml');
    expect(explicit.ok && specHash(explicit.compiled)).toBe(specHash(a.compiled));
  });

  test('canonicalJson sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: undefined }], c: undefined } })).toBe('{"a":{"d":[2,{"z":1}]},"b":1}');
  });
});

describe('derived types', () => {
  // Checked by `tsc -p tsconfig.json` (expectTypeOf is a no-op at run time).
  test('GridSpecInput follows the schema', () => {
    expectTypeOf<GridSpecInput['name']>().toEqualTypeOf<string>();
    expectTypeOf<GridSpecInput['agents'][number]['platform']>().toEqualTypeOf<'process' | 'docker' | 'kubernetes' | 'systemd' | undefined>();
    expectTypeOf<NonNullable<GridSpecInput['clusters']>[number]['memory']>().toEqualTypeOf<string | number | undefined>();
    expectTypeOf<{ name: 'x'; agents: [{ id: 'a'; capacity: { nodes: 1 } }] }>().toMatchTypeOf<GridSpecInput>();
    expectTypeOf<{ name: 'x'; agents: [{ id: 'a'; platform: 'vm'; capacity: { nodes: 1 } }] }>().not.toMatchTypeOf<GridSpecInput>();
    expectTypeOf<{ name: 'x'; agents: [{ id: 'a'; capacity: { nodes: '1' } }] }>().not.toMatchTypeOf<GridSpecInput>();
  });
});

describe('JSON text', () => {
  const spec = { name: 'j', agents: [{ id: 'a', capacity: { nodes: 2 } }], clusters: [{ name: 'c', nodes: 2 }] };

  test('valid JSON compiles the same as the object', () => {
    const result = parseGridSpec(JSON.stringify(spec), 'spec_json');
    expect(result.ok && result.compiled).toEqual(compileGridSpec(spec));
  });

  test('a repeated key in JSON is still refused, with its position', () => {
    const text = '{\n  "name": "j",\n  "name": "k",\n  "agents": [{ "id": "a", "capacity": { "nodes": 2 } }]\n}';
    const result = parseGridSpec(text, 'spec_json');
    expect(result.diagnostics.map((d) => [d.code, d.line, d.col])).toEqual([['SPEC_DUPLICATE_KEY', 3, 3]]);
  });

  test('the JSON scan finds repeated keys right around escapes and colons inside strings', () => {
    expect(scanJson('{"a": "x\\": y", "b": {"c": 1}}', 32).duplicateKey).toBeUndefined();
    expect(scanJson('{"a": "\\\\", "b": 1}', 32).duplicateKey).toBeUndefined();
    expect(scanJson('{"a": 1, "b": {"c": 1, "c": 2}}', 32).duplicateKey).toEqual({ key: 'c', start: 23, end: 26 });
    expect(scanJson('{"a": "\\": 1", "a": 2}', 32).duplicateKey).toMatchObject({ key: 'a' });
    expect(scanJson('{"a\\u0062": 1, "ab": 2}', 32).duplicateKey).toMatchObject({ key: 'ab' });
    expect(scanJson('{"a": [[[1]]]}', 3).tooDeepAt).toBe(8);
    expect(scanJson('{"a": [[[1]]]}', 4).tooDeepAt).toBeUndefined();
  });

  test('a 1,000-agent spec as JSON validates quickly', () => {
    const big = {
      name: 'big',
      storage: { portRange: { start: 20000, end: 40000 } },
      agents: Array.from({ length: 1_000 }, (_, i) => ({ id: `agent-${i}`, capacity: { nodes: 12 }, labels: { zone: `z${i % 3}` } })),
      clusters: Array.from({ length: 1_000 }, (_, i) => ({ name: `c-${i}`, nodes: 10, placement: { selector: { zone: `z${i % 3}` } } })),
    };
    const text = JSON.stringify(big);
    const started = performance.now();
    const result = parseGridSpec(text, 'spec_json');
    expect(result.ok).toBe(true);
    // The YAML parser alone takes seconds on this text; the JSON path a small fraction of that.
    expect(performance.now() - started).toBeLessThan(1_500);
  });
});

describe('objects that are not plain data', () => {
  test('a function inside the spec is refused, not thrown', () => {
    const result = validateGridSpecObject({ name: 'x', agents: [{ id: 'a', capacity: { nodes: 1 } }], hook: () => 1 }, 'pulumi');
    expect(result.ok).toBe(false);
    expect(result.diagnostics.map((d) => [d.code, d.pointer])).toEqual([['SPEC_SCHEMA', '']]);
    expect(result.diagnostics[0]?.message).toMatch(/^must be plain data/);
  });

  test('undefined is not a spec', () => {
    expect(validateGridSpecObject(undefined).diagnostics.map((d) => [d.code, d.message])).toEqual([['SPEC_SCHEMA', 'must be a mapping, got nothing']]);
  });
});
