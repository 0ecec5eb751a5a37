/**
 * Hostile specs sent to a real master: each one crashed it, froze it or was accepted and then
 * killed it while planning. Now each is refused quickly as INVALID_ARGUMENT and the master lives on.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { codeOf } from '../helpers/agent-processes.js';
import { DeclarativeGrid } from '../declarative/support/declarative-grid.js';

let grid: DeclarativeGrid | undefined;

afterEach(async () => {
  const leaked = (await grid?.teardown()) ?? [];
  grid = undefined;
  expect(leaked).toEqual([]);
});

const unknownKeys = (): string => {
  const spec: Record<string, unknown> = { name: 'x', agents: [{ id: 'a', capacity: { nodes: 1 } }] };
  for (let i = 0; i < 20_000; i++) spec[`k${i}`] = i;
  return JSON.stringify(spec);
};

describe('hostile specs against a real master', () => {
  it('deep brackets, huge counts and 20,000 unknown keys are refused at once, and the master keeps serving', async () => {
    grid = new DeclarativeGrid();
    await grid.startMaster();
    const before = await grid.client.getSpec();
    const hostile: Array<[string, string, RegExp]> = [
      // 1 KB then 3 KB of '[' killed the master ("RegExpCompiler Allocation failed").
      ['1 KB of [', '['.repeat(1_000), /nested more than 32 levels/],
      ['3 KB of [', '['.repeat(3_000), /nested more than 32 levels/],
      ['10,000 levels of JSON', `{"name": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`, /nested more than 32 levels/],
      // Accepted, then the planner allocated every ordinal until V8 ran out of memory.
      ['100,000,000 nodes', JSON.stringify({ name: 'x', agents: [{ id: 'k', platform: 'kubernetes', capacity: { nodes: 100_000_000 } }], clusters: [{ name: 'c', nodes: 100_000_000 }] }), /must be <= 150000/],
      ['9007199254740993 nodes', '{"name": "x", "agents": [{"id": "k", "capacity": {"nodes": 9007199254740993}}], "clusters": [{"name": "c", "nodes": 9007199254740993}]}', /must be <= 150000/],
      // Blocked the event loop 3.8 s.
      ['20,000 unknown keys', unknownKeys(), /invalid spec, 20000 problem\(s\)[^]*and 19900 more problems/],
    ];
    for (const [what, spec, message] of hostile) {
      for (const dryRun of [true, false]) {
        const started = performance.now();
        const result = await codeOf(grid.client.applySpec(spec, before.generation, dryRun));
        const ms = performance.now() - started;
        expect({ what, dryRun, code: result.code }).toEqual({ what, dryRun, code: GrpcStatus.INVALID_ARGUMENT });
        expect(result.details, what).toMatch(message);
        expect(result.details, what).toMatch(/spec_json:\d+:\d+: /);
        expect(ms, what).toBeLessThan(2_000);
      }
    }
    // Still alive, still serving, nothing stored.
    expect(await grid.client.getSpec()).toEqual(before);
  }, 60_000);
});
