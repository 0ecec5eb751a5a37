import { describe, expect, test } from 'vitest';
import { parseGridSpec } from '../../schema/index.js';
import { HEAD, onlyMessage, problemsOf, yaml } from './helpers.js';

describe('YAML syntax', () => {
  test('an unclosed flow sequence is reported where YAML gives up, and nothing else', () => {
    const text = yaml('name: test', 'agents: [', '  - id: a', '');
    const problems = problemsOf(text);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => p.code === 'SPEC_YAML_SYNTAX')).toBe(true);
    expect(problems[0]).toEqual({ code: 'SPEC_YAML_SYNTAX', at: '3:3', pointer: '' });
  });

  test('a tab used as indentation', () => {
    expect(problemsOf(yaml('name: test', 'agents:', '\t- id: a'))).toEqual([{ code: 'SPEC_YAML_SYNTAX', at: '3:1', pointer: '' }]);
  });

  test('a bad indentation inside a mapping', () => {
    const problems = problemsOf(yaml('name: test', 'agents:', '  - id: a', '     capacity: { nodes: 1 }'));
    expect(problems[0]).toMatchObject({ code: 'SPEC_YAML_SYNTAX', at: '3:9' });
  });

  test('a duplicate key has its own code and points at the second key', () => {
    expect(problemsOf(yaml(...HEAD, 'name: again'))).toEqual([{ code: 'SPEC_DUPLICATE_KEY', at: '6:1', pointer: '' }]);
  });

  test('an unterminated quoted string is shown at its opening quote, not at the end of the file', () => {
    expect(problemsOf(yaml('name: "test', 'agents: []'))).toEqual([{ code: 'SPEC_YAML_SYNTAX', at: '1:7', pointer: '' }]);
    expect(problemsOf(yaml('name: \'it\'\'s', 'agents: []'))).toEqual([{ code: 'SPEC_YAML_SYNTAX', at: '1:7', pointer: '' }]);
  });
});

describe('YAML that parses but cannot be a spec', () => {
  test('two documents in one file', () => {
    const problems = problemsOf(yaml(...HEAD, '---', ...HEAD));
    expect(problems).toEqual([{ code: 'SPEC_YAML_SYNTAX', at: '6:1', pointer: '' }]);
  });

  test('aliases that expand exponentially are refused, not expanded', () => {
    const bomb = ['name: test', 'agents: []', 'x0: &x0 [a, a, a, a, a, a, a, a, a, a]'];
    for (let level = 1; level <= 6; level++) bomb.push(`x${level}: &x${level} [${Array(10).fill(`*x${level - 1}`).join(', ')}]`);
    const problems = problemsOf(yaml(...bomb));
    expect(problems).toEqual([{ code: 'SPEC_LIMIT', at: '1:1', pointer: '' }]);
    expect(parseGridSpec(yaml(...bomb), 'grid.yaml').diagnostics[0]?.message).toMatch(/alias/i);
  });
});

describe('schema: types, required and unknown keys', () => {
  test('an empty file is not a spec', () => {
    expect(problemsOf('')).toEqual([{ code: 'SPEC_SCHEMA', at: '1:1', pointer: '' }]);
    expect(onlyMessage('# nothing but a comment\n')).toBe('must be a mapping, got nothing');
  });

  test('a list at the top level', () => {
    expect(problemsOf(yaml('- name: test'))).toEqual([{ code: 'SPEC_SCHEMA', at: '1:1', pointer: '' }]);
  });

  test('missing required properties are shown at the entry that lacks them', () => {
    expect(problemsOf(yaml('master: { address: 127.0.0.1:7000 }'))).toEqual([
      { code: 'SPEC_SCHEMA', at: '1:1', pointer: '/name' },
      { code: 'SPEC_SCHEMA', at: '1:1', pointer: '/agents' },
    ]);
    expect(problemsOf(yaml('name: test', 'agents:', '  - id: a', '  - capacity: {}'))).toEqual([
      { code: 'SPEC_SCHEMA', at: '3:5', pointer: '/agents/0/capacity' },
      { code: 'SPEC_SCHEMA', at: '4:5', pointer: '/agents/1/id' },
      { code: 'SPEC_SCHEMA', at: '4:5', pointer: '/agents/1/capacity/nodes' },
    ]);
  });

  test('an agents list that is empty or a mapping', () => {
    expect(problemsOf(yaml('name: test', 'agents: []'))).toEqual([{ code: 'SPEC_SCHEMA', at: '2:9', pointer: '/agents' }]);
    expect(problemsOf(yaml('name: test', 'agents:', '  agent-1: { nodes: 1 }'))).toEqual([
      { code: 'SPEC_SCHEMA', at: '3:3', pointer: '/agents' },
    ]);
    expect(onlyMessage(yaml('name: test', 'agents: []'))).toBe('must have at least 1 item(s)');
  });

  test('wrong scalar types point at the value', () => {
    expect(problemsOf(yaml('name: test', 'agents:', '  - id: agent-1', '    capacity: { nodes: four }'))).toEqual([
      { code: 'SPEC_SCHEMA', at: '4:24', pointer: '/agents/0/capacity/nodes' },
    ]);
    expect(onlyMessage(yaml('name: test', 'agents:', '  - id: agent-1', '    capacity: { nodes: 2.5 }'))).toBe(
      'must be an integer, got 2.5',
    );
    expect(problemsOf(yaml(...HEAD, 'monitoring: 5'))).toEqual([{ code: 'SPEC_SCHEMA', at: '6:13', pointer: '/monitoring' }]);
  });

  test('a label value that YAML reads as a number says to quote it', () => {
    const text = yaml('name: test', 'agents:', '  - id: agent-1', '    capacity: { nodes: 1 }', '    labels: { rack: 7 }');
    expect(problemsOf(text)).toEqual([{ code: 'SPEC_SCHEMA', at: '5:21', pointer: '/agents/0/labels/rack' }]);
    expect(onlyMessage(text)).toBe('must be a string, got 7 (quote it: "7")');
  });

  test('a label key with a slash is escaped in the pointer and still found in the source', () => {
    const text = yaml('name: test', 'agents:', '  - id: agent-1', '    capacity: { nodes: 1 }', '    labels:', '      topology.example.com/zone: 3');
    expect(problemsOf(text)).toEqual([{ code: 'SPEC_SCHEMA', at: '6:34', pointer: '/agents/0/labels/topology.example.com~1zone' }]);
  });

  test('an invalid label key points at the key', () => {
    const text = yaml('name: test', 'agents:', '  - id: agent-1', '    capacity: { nodes: 1 }', '    labels: { "bad key": x }');
    expect(problemsOf(text)).toEqual([{ code: 'SPEC_SCHEMA', at: '5:15', pointer: '/agents/0/labels/bad key' }]);
  });

  test('unknown keys at every level point at the key and suggest the near miss', () => {
    const text = yaml(
      ...HEAD, // lines 1-5
      'replicas: 3',
      'monitoring:',
      '  heartbeat: 5s',
      '  restart: { maxRestart: 3 }',
      'clusters:',
      '  - name: kg',
      '    nodes: 1',
      '    placement: { stratgy: binpack }',
    );
    expect(problemsOf(text)).toEqual([
      { code: 'SPEC_SCHEMA', at: '6:1', pointer: '/replicas' },
      { code: 'SPEC_SCHEMA', at: '8:3', pointer: '/monitoring/heartbeat' },
      { code: 'SPEC_SCHEMA', at: '9:14', pointer: '/monitoring/restart/maxRestart' },
      { code: 'SPEC_SCHEMA', at: '13:18', pointer: '/clusters/0/placement/stratgy' },
    ]);
    const messages = parseGridSpec(text, 'grid.yaml').diagnostics.map((d) => d.message);
    expect(messages).toEqual([
      'unknown property "replicas" (expected one of: name, master, monitoring, storage, agents, clusters)',
      'unknown property "heartbeat" (did you mean "heartbeatInterval"?)',
      'unknown property "maxRestart" (did you mean "maxRestarts"?)',
      'unknown property "stratgy" (did you mean "strategy"?)',
    ]);
  });

  test('enums list the allowed values', () => {
    const text = yaml('name: test', 'agents:', '  - id: agent-1', '    platform: vm', '    capacity: { nodes: 1 }');
    expect(problemsOf(text)).toEqual([{ code: 'SPEC_SCHEMA', at: '4:15', pointer: '/agents/0/platform' }]);
    expect(onlyMessage(text)).toBe('must be one of process, docker, kubernetes, systemd; got "vm"');
    const topology = yaml(...HEAD, 'clusters:', '  - { name: kg, nodes: 1, topology: raft }');
    expect(problemsOf(topology)).toEqual([{ code: 'SPEC_SCHEMA', at: '7:37', pointer: '/clusters/0/topology' }]);
  });

  test('names and ids must be DNS labels', () => {
    const text = yaml('name: My Grid', 'agents:', '  - id: Agent_1', '    capacity: { nodes: 1 }');
    expect(problemsOf(text)).toEqual([
      { code: 'SPEC_SCHEMA', at: '1:7', pointer: '/name' },
      { code: 'SPEC_SCHEMA', at: '3:9', pointer: '/agents/0/id' },
    ]);
  });

  test('a value breaking two rules of its kind is reported once (a name too long and not a DNS label)', () => {
    const text = yaml(`name: ${'X'.repeat(70)}`, 'agents:', '  - id: agent-1', '    capacity: { nodes: 1 }');
    expect(problemsOf(text)).toEqual([{ code: 'SPEC_SCHEMA', at: '1:7', pointer: '/name' }]);
    expect(onlyMessage(text)).toMatch(/^must be a DNS label .*at most 63 characters\), got "X{36}\.\.\.$/);
  });

  test('errors inside an aliased mapping are shown at the anchor', () => {
    const text = yaml(
      'name: test',
      'agents:',
      '  - id: agent-1',
      '    capacity: &cap { nodes: four }',
      '  - id: agent-2',
      '    capacity: *cap',
    );
    expect(problemsOf(text)).toEqual([
      { code: 'SPEC_SCHEMA', at: '4:29', pointer: '/agents/0/capacity/nodes' },
      { code: 'SPEC_SCHEMA', at: '4:29', pointer: '/agents/1/capacity/nodes' },
    ]);
  });
});

describe('units', () => {
  test('bad durations are SPEC_UNIT at the value, whatever their type', () => {
    const text = yaml(...HEAD, 'monitoring:', '  heartbeatInterval: 5 seconds', '  offlineAfter: 30', '  restart: { backoff: 1d }');
    expect(problemsOf(text)).toEqual([
      { code: 'SPEC_UNIT', at: '7:22', pointer: '/monitoring/heartbeatInterval' },
      { code: 'SPEC_UNIT', at: '8:17', pointer: '/monitoring/offlineAfter' },
      { code: 'SPEC_UNIT', at: '9:23', pointer: '/monitoring/restart/backoff' },
    ]);
    expect(parseGridSpec(text, 'grid.yaml').diagnostics[0]?.message).toBe(
      'must be a duration like 500ms, 15s, 2m or 1h, got "5 seconds"',
    );
  });

  test('a duration too long for a timer', () => {
    expect(problemsOf(yaml(...HEAD, 'monitoring: { replaceAfter: 1000h }'))).toEqual([
      { code: 'SPEC_UNIT', at: '6:29', pointer: '/monitoring/replaceAfter' },
    ]);
  });

  test('bad sizes: no unit, wrong unit, zero, fractions of MiB given as numbers', () => {
    const text = yaml(
      'name: test',
      'storage: { memory: "512" }',
      'agents:',
      '  - id: agent-1',
      '    capacity: { nodes: 4, memory: 2GB }',
      'clusters:',
      '  - { name: a, nodes: 1, memory: 0Mi }',
      '  - { name: b, nodes: 1, memory: 1.5 }',
      '  - { name: c, nodes: 1, memory: 0 }',
    );
    expect(problemsOf(text)).toEqual([
      { code: 'SPEC_UNIT', at: '2:20', pointer: '/storage/memory' },
      { code: 'SPEC_UNIT', at: '5:35', pointer: '/agents/0/capacity/memory' },
      { code: 'SPEC_UNIT', at: '7:34', pointer: '/clusters/0/memory' },
      { code: 'SPEC_UNIT', at: '8:34', pointer: '/clusters/1/memory' },
      { code: 'SPEC_UNIT', at: '9:34', pointer: '/clusters/2/memory' },
    ]);
  });
});
