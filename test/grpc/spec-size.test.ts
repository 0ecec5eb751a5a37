/**
 * One maximum spec size (MAX_SPEC_BYTES), the same for every client and the master: a spec over it
 * is refused at apply time with a message naming the limit, and a grid is never locked out of its
 * own fix (plan, apply and GetSpec keep working, also with a big spec stored before the limit).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { withMaster } from '../../provider/pulumi/master-session.js';
import { MAX_SPEC_BYTES } from '../../client/index.js';
import { SPEC_LIMITS } from '../../schema/index.js';
import { codeOf } from '../helpers/agent-processes.js';
import { TestMasterClient } from '../helpers/grid-client.js';
import { cleanup, runCli, startMaster, tempDir } from '../helpers/processes.js';

afterEach(cleanup);

const SPEC = { name: 'sized', agents: [{ id: 'size-agent', platform: 'process', address: '127.0.0.1:1', capacity: { nodes: 4 } }] };

/** The spec as JSON, padded with spaces to exactly `bytes` (whitespace counts: the limit is on what is sent). */
function specOfSize(bytes: number): string {
  const json = JSON.stringify(SPEC);
  return json + ' '.repeat(bytes - json.length);
}

/** A valid-looking grid of `n` agents, as big specs are in practice. */
function manyAgents(n: number): string {
  return JSON.stringify({ name: 'sized', agents: Array.from({ length: n }, (_, i) => ({ id: `agent-${i}`, platform: 'process', address: `10.1.${(i >> 8) & 255}.${i & 255}:8101` })) });
}

const LIMIT_NAMED = /^spec_json: the spec is [\d,]+ bytes as JSON; the largest spec a grid takes is 2 MiB \(2,097,152 bytes\)/;

describe('the maximum spec size', () => {
  it('is one number: the wire limit is the schema limit', () => {
    expect(MAX_SPEC_BYTES).toBe(SPEC_LIMITS.maxBytes);
  });

  it('takes a spec of exactly the limit; refuses one byte more, and a 2.5 MB grid, naming the limit; plan and apply work afterwards', async () => {
    const master = await startMaster();
    const c = new TestMasterClient(master.address);
    try {
      expect((await c.applySpec(specOfSize(MAX_SPEC_BYTES), undefined, true)).plan).toMatchObject({ actions: [], changed: false });

      const over = await codeOf(c.applySpec(specOfSize(MAX_SPEC_BYTES + 1)));
      expect(over.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(over.details).toMatch(LIMIT_NAMED);
      expect(over.details).toContain('2,097,153 bytes');

      // Over the spec limit, under the request limit: refused by the master's own check, naming it.
      const big = manyAgents(35_000);
      expect(Buffer.byteLength(big)).toBeGreaterThan(MAX_SPEC_BYTES);
      for (const dryRun of [true, false]) {
        const res = await codeOf(c.applySpec(big, undefined, dryRun));
        expect(res.code).toBe(GrpcStatus.INVALID_ARGUMENT);
        expect(res.details).toMatch(LIMIT_NAMED);
      }
      expect((await c.getSpec()).generation).toBe(0);

      // THEN plan (dry run) and apply of a spec that fits still work
      const plan = await c.applySpec(JSON.stringify(SPEC), 0, true);
      expect(plan.changed).toBe(false);
      const applied = await c.applySpec(JSON.stringify(SPEC), 0);
      expect(applied).toMatchObject({ changed: true, generation: 1 });
      expect(JSON.parse((await c.getSpec()).specJson)).toMatchObject({ name: 'sized' });
    } finally {
      c.close();
    }
  });

  it('a client refuses an oversized spec itself with the same limit named, before sending it', async () => {
    const master = await startMaster();
    const err = await withMaster({ address: master.address }, (m) => m.applySpec(specOfSize(MAX_SPEC_BYTES + 1), undefined, false)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'GRID_SPEC_INVALID', field: 'spec' });
    expect((err as Error).message).toMatch(/the largest spec a grid takes is 2 MiB \(2,097,152 bytes\)/);
    expect((err as Error).message).toContain(`not sent to master ${master.address}`);
  });

  it('a spec stored before the limit (4.5 MB) is not a lock-out: GetSpec, plan and apply of the fix work', async () => {
    // GIVEN a data dir whose stored spec is over the limit (applied by an older master)
    const dataDir = tempDir('master-');
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const stored = specOfSize(4_500_000);
    writeFileSync(join(dataDir, 'spec.json'), JSON.stringify({ specJson: stored, generation: 3, appliedAtMs: Date.now(), leaders: {} }), { mode: 0o600 });
    const master = await startMaster({ dataDir });

    // THEN every client can read it (64 MiB answers; the 4 MiB default refused it), though it no longer compiles: it is held, not enforced ...
    const got = await withMaster({ address: master.address }, (m) => m.getSpec());
    expect(got.specJson.length).toBe(4_500_000);
    expect(got.generation).toBe(3);
    expect(master.logs()).toMatch(/the stored spec no longer compiles: it is kept but not enforced/);

    // ... and the CLI plans and applies the fix
    const fix = join(tempDir('spec-'), 'grid.yaml');
    writeFileSync(fix, `name: sized\nagents:\n  - id: size-agent\n    platform: process\n    address: 127.0.0.1:1\n    capacity: { nodes: 2 }\n`);
    const plan = await runCli(['plan', fix, '--master', master.address]);
    expect(plan.code, plan.stderr).toBe(2);
    const apply = await runCli(['apply', fix, '--auto-approve', '--no-wait', '--master', master.address]);
    expect(apply.code, apply.stderr).toBe(0);
    const after = await withMaster({ address: master.address }, (m) => m.getSpec());
    expect(after.generation).toBe(4);
    expect(after.specJson.length).toBeLessThan(1000);
  });
});
