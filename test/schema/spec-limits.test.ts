import { describe, expect, test } from 'vitest';
import { formatDiagnostic, gridSchema, parseGridSpec, SPEC_LIMITS, validateGridSpecObject, type CompiledGridSpec } from '../../schema/index.js';
import { planGrid } from '../../plan/index.js';
import { compact, yaml } from './helpers.js';

/** A parse, timed: every input here cost seconds, crashed or was accepted before the limits. */
/**
 * Not a speed target (bench/ measures speed): a ceiling that only runaway work crosses. Unbounded
 * parsing of these inputs takes minutes; bounded parsing takes tens of milliseconds alone and, on a
 * loaded two-core CI host running other test files beside it, up to about 1.5 s (seen).
 */
const RUNAWAY_MS = 5_000;

function timed(text: string): { result: ReturnType<typeof parseGridSpec>; ms: number } {
  const started = performance.now();
  const result = parseGridSpec(text, 'grid.yaml');
  return { result, ms: performance.now() - started };
}

const k8s = (capacity: string, nodes: string): string =>
  yaml('name: big', 'agents:', `  - { id: k, platform: kubernetes, capacity: { nodes: ${capacity} } }`, 'clusters:', `  - { name: c, nodes: ${nodes} }`);

describe('sizes past the documented limits are refused before any work is allocated', () => {
  test.each(['100000000', '9007199254740993', '1e308'])('capacity and nodes of %s', (n) => {
    const problems = compact(parseGridSpec(k8s(n, n), 'grid.yaml'));
    expect(problems).toEqual([
      { code: 'SPEC_LIMIT', at: '3:55', pointer: '/agents/0/capacity/nodes' },
      { code: 'SPEC_LIMIT', at: '5:23', pointer: '/clusters/0/nodes' },
    ]);
  });

  test('the same as JSON, placed without the YAML parser', () => {
    const text = '{"name": "big", "agents": [{"id": "k", "capacity": {"nodes": 9007199254740993}}],\n "clusters": [{"name": "c", "nodes": 1e308}]}';
    expect(compact(parseGridSpec(text, 'spec_json'))).toEqual([
      { code: 'SPEC_LIMIT', at: '1:62', pointer: '/agents/0/capacity/nodes' },
      { code: 'SPEC_LIMIT', at: '2:38', pointer: '/clusters/0/nodes' },
    ]);
  });

  test('nodes of all clusters together: at most 150,000', () => {
    const clusters = Array.from({ length: 31 }, (_, i) => `  - { name: c${i}, nodes: 5000 }`);
    const text = yaml('name: big', 'agents:', '  - { id: k, platform: kubernetes, capacity: { nodes: 150000 } }', 'clusters:', ...clusters);
    const result = parseGridSpec(text, 'grid.yaml');
    expect(compact(result)).toEqual([{ code: 'SPEC_LIMIT', at: '5:3', pointer: '/clusters' }]);
    expect(result.diagnostics[0]?.message).toBe('clusters have 155000 nodes in total; a grid may have at most 150000');
  });

  test('more agents than allowed: one problem, and no placement or capacity work', () => {
    const agents = Array.from({ length: SPEC_LIMITS.maxAgents + 1 }, (_, i) => ({ id: `a${i}`, capacity: { nodes: 1 } }));
    const clusters = Array.from({ length: 100 }, (_, i) => ({ name: `c${i}`, nodes: 1000, placement: { agents: ['nobody'] } }));
    const { result, ms } = timed(JSON.stringify({ name: 'big', agents, clusters }));
    expect(compact(result)).toEqual([{ code: 'SPEC_LIMIT', at: '1:24', pointer: '/agents' }]);
    expect(ms).toBeLessThan(RUNAWAY_MS);
  });

  test('labels, lengths and pins are bounded too', () => {
    const labels = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
    const result = validateGridSpecObject({ name: 'x', storage: { dataPath: '/'.repeat(4097) }, agents: [{ id: 'a', capacity: { nodes: 1 }, labels }] });
    expect(result.diagnostics.map((d) => [d.code, d.pointer])).toEqual([
      ['SPEC_LIMIT', '/storage/dataPath'],
      ['SPEC_LIMIT', '/agents/0/labels'],
    ]);
  });

  test('the schema and SPEC_LIMITS say the same', () => {
    expect(gridSchema.properties.agents.maxItems).toBe(SPEC_LIMITS.maxAgents);
    expect(gridSchema.properties.clusters.maxItems).toBe(SPEC_LIMITS.maxClusters);
    expect(gridSchema.$defs.cluster.properties.placement.properties.agents.maxItems).toBe(SPEC_LIMITS.maxAgents);
    expect(SPEC_LIMITS.maxNodesPerCluster).toBe(5_000);
    expect(SPEC_LIMITS.maxAgentCapacityNodes).toBe(SPEC_LIMITS.maxTotalNodes);
  });

  test('the planner refuses sizes past the limits too, before allocating an ordinal', () => {
    const spec = parseGridSpec(k8s('10', '10'), 'grid.yaml');
    if (!spec.ok) throw new Error('fixture must be valid');
    const huge: CompiledGridSpec = {
      ...spec.compiled,
      agents: spec.compiled.agents.map((a) => ({ ...a, capacity: { ...a.capacity, nodes: 100_000_000 } })),
      clusters: spec.compiled.clusters.map((c) => ({ ...c, nodes: 100_000_000 })),
    };
    const live = { agents: [], nodes: [] };
    expect(() => planGrid(huge, live)).toThrow(expect.objectContaining({ code: 'PLAN_INVALID_SPEC' }));
    const many: CompiledGridSpec = { ...spec.compiled, clusters: Array.from({ length: 31 }, (_, i) => ({ ...spec.compiled.clusters[0]!, name: `c${i}`, nodes: 5_000 })) };
    expect(() => planGrid(many, live)).toThrow(/at most 150000 nodes/);
  });
});

describe('parsing is bounded: depth, size, aliases, diagnostics', () => {
  test('10,000 levels of JSON: one SPEC_LIMIT with its place, no stack overflow', () => {
    const { result } = timed('{"name": ' + '['.repeat(10_000) + ']'.repeat(10_000) + '}');
    expect(compact(result)).toEqual([{ code: 'SPEC_LIMIT', at: '1:41', pointer: '' }]);
    expect(result.diagnostics[0]?.message).toBe('nested more than 32 levels deep');
  });

  test.each([
    ['flow brackets', '['.repeat(1_000)],
    ['3 KB of brackets', '['.repeat(3_000)],
    ['block sequences on one line', 'name: x\nagents:\n' + '- '.repeat(10_000) + 'x'],
    ['indentation', 'name: x\nagents:\n' + Array.from({ length: 600 }, (_, i) => `${' '.repeat(i)}k:`).join('\n')],
    ['dashes inside JSON-like text', '{\n "agents": [\n' + '- '.repeat(10_000) + 'x\n]}'],
  ])('deep YAML (%s) is refused with a place', (_, text) => {
    const { result, ms } = timed(text);
    expect(result.ok).toBe(false);
    expect(result.diagnostics.length).toBeLessThanOrEqual(SPEC_LIMITS.maxDiagnostics + 1);
    for (const d of result.diagnostics) expect(d.line).toBeGreaterThanOrEqual(1);
    expect(ms).toBeLessThan(RUNAWAY_MS);
  });

  test('5 MB of "[" is refused by size at once', () => {
    const { result, ms } = timed('['.repeat(5_000_000));
    expect(compact(result)).toEqual([{ code: 'SPEC_LIMIT', at: '1:1', pointer: '' }]);
    expect(ms).toBeLessThan(RUNAWAY_MS);
  });

  test('300 KB of YAML syntax is refused by size; the same spec as JSON is parsed', () => {
    const agents = Array.from({ length: 3_500 }, (_, i) => ({ id: `agent-${i}`, capacity: { nodes: 1 }, labels: { zone: `z${i % 3}`, rack: `r${i}` } }));
    const asYaml = 'name: big\nagents:\n' + agents.map((a) => `  - id: ${a.id}\n    capacity: { nodes: 1 }\n    labels: { zone: ${a.labels.zone}, rack: ${a.labels.rack} }\n`).join('');
    expect(asYaml.length).toBeGreaterThan(SPEC_LIMITS.maxYamlBytes);
    expect(compact(parseGridSpec(asYaml, 'grid.yaml'))).toEqual([{ code: 'SPEC_LIMIT', at: '1:1', pointer: '' }]);
    expect(parseGridSpec(JSON.stringify({ name: 'big', agents }), 'grid.json').ok).toBe(true);
  });

  test('20,000 unknown keys: the first 100 listed, the rest counted, in well under a second', () => {
    const spec: Record<string, unknown> = { name: 'x', agents: [{ id: 'a', capacity: { nodes: 1 } }] };
    for (let i = 0; i < 20_000; i++) spec[`k${i}`] = i;
    for (const text of [JSON.stringify(spec, null, 1), yaml('name: x', 'agents: [{ id: a, capacity: { nodes: 1 } }]', ...Array.from({ length: 20_000 }, (_, i) => `k${i}: ${i}`))]) {
      const { result, ms } = timed(text);
      expect(result.diagnostics).toHaveLength(SPEC_LIMITS.maxDiagnostics + 1);
      const last = result.diagnostics[SPEC_LIMITS.maxDiagnostics];
      expect(last).toMatchObject({ code: 'SPEC_MORE_PROBLEMS', pointer: '/k100', line: expect.any(Number) });
      expect(last?.message).toMatch(/^and 19900 more problems/);
      expect(ms).toBeLessThan(RUNAWAY_MS);
    }
  });

  test('past maxFullCheckBytes, 120,000 unknown keys: schema checking stops at the first problem, placed, in well under a second', () => {
    const spec: Record<string, unknown> = { name: 'x', agents: [{ id: 'a', capacity: { nodes: 1 } }] };
    for (let i = 0; i < 120_000; i++) spec[`k${i}`] = i;
    const text = JSON.stringify(spec);
    expect(text.length).toBeGreaterThan(SPEC_LIMITS.maxFullCheckBytes);
    timed(text); // compiles the first-problem validator: a one-time cost of the process
    const { result, ms } = timed(text);
    expect(compact(result)).toEqual([{ code: 'SPEC_SCHEMA', at: expect.stringMatching(/^1:\d+$/), pointer: '/k0' }]);
    expect(result.diagnostics[0]?.message).toMatch(/schema checking stopped at its first problem/);
    expect(ms).toBeLessThan(RUNAWAY_MS);
  });

  test('more than 100 aliases are refused before yaml resolves them one document walk each', () => {
    const text = yaml('name: x', 'agents: [{ id: a, capacity: { nodes: 1 } }]', 'base: &b { x: 1 }', ...Array.from({ length: 20_000 }, (_, i) => `k${i}: *b`));
    const { result, ms } = timed(text);
    expect(compact(result)).toEqual([{ code: 'SPEC_LIMIT', at: '104:7', pointer: '' }]);
    expect(ms).toBeLessThan(RUNAWAY_MS);
  });

  test('a problem on a huge line shows a window of it, with the caret under the problem', () => {
    const text = `{"name": "x", "pad": "${'p'.repeat(100_000)}", "agents": [{"id": "a", "capacity": {"nodes": -1}}]}`;
    const [first, second] = parseGridSpec(text, 'spec_json').diagnostics;
    expect(first).toMatchObject({ code: 'SPEC_SCHEMA', pointer: '/pad', line: 1, col: 15 });
    expect(second).toMatchObject({ pointer: '/agents/0/capacity/nodes', col: 100_071 });
    const shown = formatDiagnostic(second!).split('\n');
    expect(shown[1]!.length).toBeLessThan(200);
    expect(shown[1]!.indexOf('-1')).toBe(shown[2]!.indexOf('^'));
  });
});
