import { Metadata, status } from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import { ClientError } from '../../client/index.js';
import { ConfigError, formatError, GridError } from '../../errors/index.js';
import { PlanError } from '../../plan/index.js';
import { GridCdktfError } from '../../provider/cdktf/index.js';
import { GridKubernetesError } from '../../provider/kubernetes/index.js';
import { GridInitError, PulumiGridError } from '../../provider/pulumi/index.js';
import { EventError } from '../../runtime/events/index.js';
import { RuntimeError, ShutdownTimeoutError } from '../../runtime/index.js';
import { parseGridSpec, SpecError, UnitError } from '../../schema/index.js';

describe('one error base', () => {
  const cause = new Error('root cause');
  const families: Array<[string, GridError, string, string | undefined]> = [
    ['schema', new UnitError('monitoring.offlineAfter', 'not a duration'), 'SPEC_UNIT', 'monitoring.offlineAfter'],
    ['plan', new PlanError('PLAN_INVALID_LIVE_STATE', 'live.nodes[3].status', 'unknown status', { cause }), 'PLAN_INVALID_LIVE_STATE', 'live.nodes[3].status'],
    ['client', new ClientError('SPEC_INVALID', 'too big', { field: 'spec_json' }), 'SPEC_INVALID', 'spec_json'],
    ['runtime', new RuntimeError('NODE_NOT_FOUND', 'no node n1', { nodeId: 'n1' }, { cause }), 'NODE_NOT_FOUND', undefined],
    ['runtime config', new ConfigError('--listen', 'not host:port'), 'CONFIG_INVALID', '--listen'],
    ['runtime shutdown', new ShutdownTimeoutError('master', 100), 'SHUTDOWN_TIMEOUT', undefined],
    ['events', new EventError('EVENTS_INVALID_FILTER', 'unknown type', 'types', { cause }), 'EVENTS_INVALID_FILTER', 'types'],
    ['pulumi', new PulumiGridError('GRID_INPUT_INVALID', 'masterAddress', 'not host:port'), 'GRID_INPUT_INVALID', 'masterAddress'],
    ['cdktf', new GridCdktfError('CDKTF_INVALID_PROPS', 'masterPort', 'out of range'), 'CDKTF_INVALID_PROPS', 'masterPort'],
    ['kubernetes', new GridKubernetesError('K8S_INVALID_PROPS', 'namespace', 'empty'), 'K8S_INVALID_PROPS', 'namespace'],
  ];

  test.each(families)('%s errors are GridErrors with a stable code and their field in the context', (_layer, err, code, field) => {
    expect(err).toBeInstanceOf(GridError);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe(code);
    expect(err.context.field).toBe(field);
    // One formatter prints any of them: the message, then the code.
    expect(formatError(err)).toBe(`${err.message} (${code})`);
  });

  test('the cause is kept', () => {
    const err = new PlanError('PLAN_INVALID_SPEC', 'clusters[0]', 'bad', { cause });
    expect(err.cause).toBe(cause);
  });

  test('a spec error prints every diagnostic with its place when asked for detail', () => {
    const result = parseGridSpec('name: x\nagents: [{ id: a, capacity: { nodes: 1 } }]\nclusterz: []\n', 'grid.yaml');
    expect(result.ok).toBe(false);
    const err = new SpecError('grid.yaml', result.diagnostics);
    const lines = formatError(err, true).split('\n');
    expect(lines[0]).toMatch(/^grid\.yaml: invalid grid spec: 1 error; first: .*\(SPEC_SCHEMA\)$/);
    expect(lines[1]).toMatch(/^grid\.yaml:3:1: .*clusterz/);
    expect(lines.some((l) => /^\s+\^/.test(l))).toBe(true);
    // Without detail it stays one line.
    expect(formatError(err)).not.toContain('\n');
  });

  test('a failed converge lists its reasons as detail lines', () => {
    const err = new GridInitError('GRID_CONVERGE_TIMEOUT', '127.0.0.1:7000', {}, ['cluster a: 1 of 3 nodes running'], 'the grid did not converge');
    expect(formatError(err, true)).toBe('the grid did not converge (GRID_CONVERGE_TIMEOUT)\ncluster a: 1 of 3 nodes running');
  });

  test('gRPC errors show the server message and the status name; anything else its message on one line', () => {
    const grpc = Object.assign(new Error('14 UNAVAILABLE: x'), { code: status.UNAVAILABLE, details: 'cannot reach the master', metadata: new Metadata() });
    expect(formatError(grpc)).toBe('cannot reach the master (UNAVAILABLE)');
    expect(formatError(new Error('two\n  lines'))).toBe('two; lines');
    expect(formatError('plain')).toBe('plain');
  });
});
