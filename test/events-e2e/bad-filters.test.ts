/**
 * Bad event queries against a real master: INVALID_ARGUMENT naming the filter over gRPC, and one
 * error line with exit code 1 from `sutra-grid events`.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unary } from '../../client/index.js';
import { codeOf } from '../helpers/agent-processes.js';
import { fakeAgent } from '../helpers/grid-client.js';
import { cleanup, runCli, startMaster, type CliResult, type DaemonProcess } from '../helpers/processes.js';
import { EventsClient, FAST_MASTER, watch } from './support.js';

let master: DaemonProcess;
let c: EventsClient;

beforeAll(async () => {
  master = await startMaster({ args: FAST_MASTER });
  c = new EventsClient(master.address);
});
afterAll(async () => {
  c.close();
  await cleanup();
});

const none = { types: [], agentId: '', nodeId: '', cluster: '' };

function oneErrorLine(res: CliResult): string {
  expect(res.code).toBe(1);
  expect(res.stdout).toBe('');
  const lines = res.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('bad event filters over gRPC', () => {
  it('ListEvents: an unknown type, a negative since and an until before since are INVALID_ARGUMENT naming the filter', async () => {
    const unknown = await codeOf(c.listRaw({ filter: { ...none, types: ['NodeCrashed', 'NodeExploded'] } }));
    expect(unknown.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(unknown.details).toMatch(/^filter\.types: unknown event type\(s\) "NodeExploded"/);

    const since = await codeOf(c.listRaw({ sinceUs: -5 }));
    expect(since.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(since.details).toMatch(/^sinceUs: must be a non-negative integer, got -5/);

    const until = await codeOf(c.listRaw({ sinceUs: 2_000_000, untilUs: 1_000_000 }));
    expect(until.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(until.details).toMatch(/^untilUs: is before sinceUs/);
  });

  it('WatchEvents: an unknown type ends the stream with INVALID_ARGUMENT naming filter.types', async () => {
    const w = watch(c, 0, { ...none, types: ['Bogus'] });
    const err = await w.ended;
    expect(err?.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(err?.details).toMatch(/^filter\.types: unknown event type\(s\) "Bogus"/);
    expect(w.events).toEqual([]);
  });

  it('ReportNodeEvents: a payload of the wrong shape is INVALID_ARGUMENT naming the event and field', async () => {
    const bad = { index: 0, timestampUs: 0, type: 'NodeRestarted', severity: '', agentId: '', nodeId: 'n1', cluster: '', payloadJson: '{"restartCount":"two","newPid":7}', count: 1, lastSeenUs: 0, message: '' };
    await c.register(fakeAgent('a1'));
    const res = await codeOf(unary(c.raw.reportNodeEvents as never, c.raw, { agentId: 'a1', events: [bad] }, undefined, 5000));
    expect(res.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(res.details).toMatch(/^events\[0\]\.payload_json\.restartCount: /);
    expect(await c.ofType('NodeRestarted')).toEqual([]);
  });
});

describe('bad event filters through the CLI', () => {
  const events = (...args: string[]): Promise<CliResult> => runCli(['events', '--master', master.address, ...args]);

  it('an unknown --type: one line naming the filter and the type, exit 1', async () => {
    const line = oneErrorLine(await events('--type', 'NodeCrashed,Nope'));
    expect(line).toMatch(/filter\.types/);
    expect(line).toMatch(/"Nope"/);
  });

  it('a --since that is not a duration: one line naming --since, exit 1', async () => {
    const line = oneErrorLine(await events('--since', 'yesterday'));
    expect(line).toMatch(/--since/);
    expect(line).toMatch(/yesterday/);
  });

  it('a --limit or --since-index that is not a number: one line naming the flag, exit 1', async () => {
    expect(oneErrorLine(await events('--limit', 'ten'))).toMatch(/--limit/);
    expect(oneErrorLine(await events('--since-index', '-3'))).toMatch(/--since-index/);
  });

  it('--follow with an unknown type fails the same way instead of waiting forever', async () => {
    const line = oneErrorLine(await events('--follow', '--type', 'Nope'));
    expect(line).toMatch(/filter\.types/);
  });
});
