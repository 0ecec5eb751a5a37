/**
 * The master's spec worker thread (runtime/master/reconcile/spec-worker.ts), running the compiled
 * worker entry (dist/, built by `npm run build`): errors cross back with the code and text the
 * synchronous compile gives, and a job over the time limit terminates its thread, fails naming the
 * limit, and the next job runs on a fresh thread.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { planFromWire } from '../../client/index.js';
import { Plan } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { GridError } from '../../runtime/errors.js';
import { compileSpecJson } from '../../runtime/master/reconcile/compile-spec.js';
import { SpecWorker } from '../../runtime/master/reconcile/spec-worker.js';
import { cleanup, tempDir } from '../helpers/processes.js';

const ENTRY = pathToFileURL(join(import.meta.dirname, '../../dist/runtime/master/reconcile/spec-worker-main.js'));
const NO_LIVE = { agents: [], nodes: [] };

let worker: SpecWorker | undefined;
afterEach(async () => {
  await worker?.close();
  worker = undefined;
  await cleanup();
});

function thrown(fn: () => unknown): GridError {
  try {
    fn();
  } catch (err) {
    return err as GridError;
  }
  throw new Error('did not throw');
}

describe('spec worker', () => {
  it('answers as the synchronous compile does: the same SPEC_INVALID text, the compiled spec only when kept', async () => {
    worker = new SpecWorker({ entry: ENTRY });
    const bad = JSON.stringify({ name: 'w', agents: Array.from({ length: 300 }, (_, i) => ({ id: `a-${i}`, bogus: 1 })) });
    const expected = thrown(() => compileSpecJson(bad));
    const got = await worker.run({ specJson: bad, live: NO_LIVE, keep: false }).then(() => undefined, (err: unknown) => err);
    expect(got).toBeInstanceOf(GridError);
    expect({ code: (got as GridError).code, message: (got as GridError).message, context: (got as GridError).context }).toEqual({
      code: 'SPEC_INVALID',
      message: expected.message,
      context: expected.context,
    });

    const good = JSON.stringify({ name: 'w', agents: [{ id: 'a', platform: 'kubernetes', capacity: { nodes: 2 } }], clusters: [{ name: 'c', nodes: 2 }] });
    const dry = await worker.run({ specJson: good, live: NO_LIVE, keep: false });
    expect(dry.compiled).toBeUndefined();
    // The plan comes back encoded, as ApplySpec sends it.
    expect(planFromWire(Plan.decode(dry.encodedPlan))).toMatchObject({ unplaced: [{ cluster: 'c' }] });
    expect(dry.summary).toEqual({ create: 0, destroy: 0, update: 0, replace: 0, unchanged: 0 });
    const kept = await worker.run({ specJson: good, live: NO_LIVE, keep: true });
    expect(kept.compiled).toEqual(compileSpecJson(good));
    expect(kept.canonical).toBe(JSON.stringify(JSON.parse(kept.canonical!)));
  }, 30_000);

  it('a job over the time limit fails DEADLINE_EXCEEDED naming the limit; the next job gets a fresh thread', async () => {
    // A stand-in entry that never answers "hang" and answers anything else with its thread id.
    const entry = join(tempDir('spec-worker-'), 'hanging-worker.mjs');
    writeFileSync(
      entry,
      `import { parentPort, threadId } from 'node:worker_threads';
parentPort.on('message', (m) => {
  if (m.job.specJson === 'hang') for (;;);
  parentPort.postMessage({ id: m.id, ok: true, result: { threadId } });
});
`,
    );
    worker = new SpecWorker({ entry: pathToFileURL(entry), timeoutMs: 1_000 });
    const first = await worker.run({ specJson: 'x', live: NO_LIVE, keep: false });
    const started = performance.now();
    const late = await worker.run({ specJson: 'hang', live: NO_LIVE, keep: false }).then(() => undefined, (err: unknown) => err as GridError);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(late?.code).toBe('DEADLINE_EXCEEDED');
    expect(late?.message).toMatch(/^spec_json: .*the master's limit of 1000 ms for spec work; nothing was applied$/);
    const next = await worker.run({ specJson: 'x', live: NO_LIVE, keep: false });
    const threadOf = (r: unknown): number => (r as { threadId: number }).threadId;
    expect(threadOf(next)).toBeGreaterThan(threadOf(first));
  }, 30_000);
});
