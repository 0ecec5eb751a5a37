import { describe, expect, test } from 'vitest';
import {
  formatDiagnostic,
  formatDiagnostics,
  loadGridSpecFile,
  loadGridSpecOrThrow,
  SpecError,
  summarizeDiagnostics,
  validateGridSpecObject,
} from '../../schema/index.js';
import { compact } from './helpers.js';

const FIXTURES = 'test/schema/fixtures';

describe('a file with many problems', () => {
  test('every problem is reported, in source order, schema and semantic together', async () => {
    const result = await loadGridSpecFile(`${FIXTURES}/many-errors.yaml`);
    expect(result.ok).toBe(false);
    expect(compact(result)).toEqual([
      { code: 'SPEC_SCHEMA', at: '2:7', pointer: '/name' },
      { code: 'SPEC_SCHEMA', at: '3:1', pointer: '/foo' },
      { code: 'SPEC_UNIT', at: '5:22', pointer: '/monitoring/heartbeatInterval' },
      { code: 'SPEC_MONITORING', at: '6:18', pointer: '/monitoring/degradedAfter' },
      { code: 'SPEC_UNIT', at: '8:11', pointer: '/storage/memory' },
      { code: 'SPEC_PORT_RANGE', at: '9:35', pointer: '/storage/portRange/end' },
      { code: 'SPEC_SCHEMA', at: '12:15', pointer: '/agents/0/platform' },
      { code: 'SPEC_SCHEMA', at: '13:24', pointer: '/agents/0/capacity/nodes' },
      { code: 'SPEC_DUPLICATE_ID', at: '14:9', pointer: '/agents/1/id' },
      { code: 'SPEC_UNKNOWN_AGENT', at: '19:27', pointer: '/clusters/0/placement/agents/0' },
      { code: 'SPEC_DUPLICATE_ID', at: '20:11', pointer: '/clusters/1/name' },
      { code: 'SPEC_CAPACITY', at: '21:12', pointer: '/clusters/1/nodes' },
    ]);
    expect(result.diagnostics.every((d) => d.file === `${FIXTURES}/many-errors.yaml`)).toBe(true);
    expect(summarizeDiagnostics(result.diagnostics)).toBe('12 errors');
  });

  test('loadGridSpecOrThrow throws one SpecError carrying all of them', async () => {
    const error = await loadGridSpecOrThrow(`${FIXTURES}/many-errors.yaml`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpecError);
    const spec = error as SpecError;
    expect(spec.code).toBe('SPEC_SCHEMA');
    expect(spec.errors).toHaveLength(12);
    expect(spec.message).toMatch(/many-errors\.yaml: invalid grid spec: 12 errors; first: must be a DNS label/);
  });
});

describe('formatting', () => {
  test('file:line:col: message (at pointer), the source line and a caret under the value', async () => {
    const result = await loadGridSpecFile(`${FIXTURES}/format.yaml`);
    expect(formatDiagnostics(result.diagnostics)).toBe(
      [
        `${FIXTURES}/format.yaml:3:22: must be a duration like 500ms, 15s, 2m or 1h, got "5 seconds" (at /monitoring/heartbeatInterval)`,
        '    heartbeatInterval: 5 seconds',
        '                       ^~~~~~~~~',
        '',
        `${FIXTURES}/format.yaml:7:9: duplicate agent id "agent-1" (first declared at agents[0]) (at /agents/1/id)`,
        '    - id: agent-1',
        '          ^~~~~~~',
      ].join('\n'),
    );
  });

  test('a YAML syntax error has a position and a caret but no pointer', async () => {
    const result = await loadGridSpecFile(`${FIXTURES}/tab-indent.yaml`);
    expect(compact(result)).toEqual([{ code: 'SPEC_YAML_SYNTAX', at: '3:1', pointer: '' }]);
    expect(formatDiagnostics(result.diagnostics)).toBe(
      `${FIXTURES}/tab-indent.yaml:3:1: Tabs are not allowed as indentation\n  \theartbeatInterval: 5s\n  ^`,
    );
  });

  test('a diagnostic from an object has no position and no source line', () => {
    const result = validateGridSpecObject({ name: 'x', agents: [{ id: 'a', capacity: { nodes: 1 } }], monitoring: { offlineAfter: '1m', nope: 1 } }, 'pulumi:grid');
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      'pulumi:grid: unknown property "nope" (expected one of: heartbeatInterval, degradedAfter, offlineAfter, replaceAfter, restart) (at /monitoring/nope)',
    ]);
  });

  test('a warning says so', () => {
    const result = validateGridSpecObject({
      name: 'x',
      agents: [{ id: 'a', capacity: { nodes: 3 } }],
      clusters: [{ name: 'kg', nodes: 3, topology: 'leader-replicas' }],
    });
    expect(result.ok).toBe(true);
    expect(formatDiagnostics(result.diagnostics)).toMatch(/^<object>: warning: cluster "kg": leader and replicas can only go on agent a;/);
    expect(summarizeDiagnostics(result.diagnostics)).toBe('0 errors, 1 warning');
  });

  test('an unreadable file is a diagnostic, not a crash', async () => {
    const result = await loadGridSpecFile(`${FIXTURES}/does-not-exist.yaml`);
    expect(result.ok).toBe(false);
    expect(result.diagnostics).toEqual([
      expect.objectContaining({ code: 'SPEC_FILE_READ', message: 'cannot read the spec: no such file' }),
    ]);
    expect(result.diagnostics[0]).not.toHaveProperty('line');
    expect(formatDiagnostics(result.diagnostics)).toBe(`${FIXTURES}/does-not-exist.yaml: cannot read the spec: no such file`);
  });
});
