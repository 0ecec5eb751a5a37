/**
 * Spec fuzz test: seeded mutants of the example specs must never crash the parser, never take
 * run away, and every problem must carry file:line:col and a documented code. CI runs 1,000
 * mutants; `npm run fuzz:spec` runs more (SPEC_FUZZ_COUNT, SPEC_FUZZ_SEED) and prints figures.
 */
import { describe, expect, test } from 'vitest';
import { parseGridSpec, SPEC_LIMITS, type SpecErrorCode } from '../../schema/index.js';
import { mutants, type Mutant } from './spec-mutants.js';

const SEED = Number(process.env.SPEC_FUZZ_SEED ?? 20_260_101);
const COUNT = Number(process.env.SPEC_FUZZ_COUNT ?? 1_000);
/**
 * A ceiling only runaway (superlinear) work crosses, not a speed target: bench/ measures speed. A
 * near-2 MiB mutant parses in about 0.4 s alone and took 1.1 s on a loaded CI host (seen); an
 * unbounded parse of these inputs takes minutes. The master parses in a worker thread, so even a
 * slow parse never stalls its event loop.
 */
const MAX_PARSE_MS = 5_000;

/** Every code a spec problem may have; the Record makes TypeScript list them all. */
const CODES: Record<SpecErrorCode, true> = {
  SPEC_FILE_READ: true,
  SPEC_YAML_SYNTAX: true,
  SPEC_DUPLICATE_KEY: true,
  SPEC_SCHEMA: true,
  SPEC_UNIT: true,
  SPEC_DUPLICATE_ID: true,
  SPEC_UNKNOWN_AGENT: true,
  SPEC_SELECTOR_NO_MATCH: true,
  SPEC_CAPACITY: true,
  SPEC_PORT_RANGE: true,
  SPEC_ADDRESS: true,
  SPEC_MONITORING: true,
  SPEC_TOPOLOGY: true,
  SPEC_LIMIT: true,
  SPEC_MORE_PROBLEMS: true,
};

/** What one mutant did wrong ([] when nothing), and how long its parse took. */
function check(mutant: Mutant): { ms: number; ok: boolean; problems: string[] } {
  const problems: string[] = [];
  const started = performance.now();
  let result;
  try {
    result = parseGridSpec(mutant.text, 'fuzz.yaml');
  } catch (error) {
    return { ms: performance.now() - started, ok: false, problems: [`threw ${String(error)}`] };
  }
  const ms = performance.now() - started;
  if (ms > MAX_PARSE_MS) problems.push(`took ${ms.toFixed(0)} ms`);
  if (result.diagnostics.length > SPEC_LIMITS.maxDiagnostics + 1) problems.push(`${result.diagnostics.length} diagnostics listed`);
  for (const d of result.diagnostics) {
    if (!(d.code in CODES)) problems.push(`undocumented code ${d.code}`);
    if (d.file !== 'fuzz.yaml' || !(Number(d.line) >= 1) || !(Number(d.col) >= 1)) {
      problems.push(`${d.code} "${d.message.slice(0, 80)}" has no file:line:col`);
    }
    if (d.message.length > 1_000) problems.push(`${d.code} message of ${d.message.length} characters`);
  }
  if (result.ok) {
    const { agents, clusters } = result.compiled;
    const total = clusters.reduce((sum, c) => sum + c.nodes, 0);
    if (agents.length > SPEC_LIMITS.maxAgents || clusters.length > SPEC_LIMITS.maxClusters || total > SPEC_LIMITS.maxTotalNodes) {
      problems.push(`accepted past the limits: ${agents.length} agents, ${clusters.length} clusters, ${total} nodes`);
    }
    if (agents.some((a) => a.capacity.nodes > SPEC_LIMITS.maxAgentCapacityNodes) || clusters.some((c) => c.nodes > SPEC_LIMITS.maxNodesPerCluster)) {
      problems.push('accepted a count past its limit');
    }
  }
  return { ms, ok: result.ok, problems };
}

describe('spec fuzz', () => {
  test(`${COUNT} seeded mutants of the examples: no crash, no runaway parse, every error placed (seed ${SEED})`, () => {
    const failures: string[] = [];
    const times: number[] = [];
    let accepted = 0;
    // Compile both schema validators (the full one, and the first-problem one for specs past
    // maxFullCheckBytes) before timing: a one-time cost of the process, not of any spec.
    parseGridSpec('{"name": "warm"}', 'warm.json');
    parseGridSpec(`{"name": "warm", "pad": "${'x'.repeat(SPEC_LIMITS.maxFullCheckBytes)}"}`, 'warm.json');
    const started = performance.now();
    for (const mutant of mutants(SEED, COUNT)) {
      const { ms, ok, problems } = check(mutant);
      times.push(ms);
      if (ok) accepted++;
      for (const problem of problems) {
        failures.push(`seed ${SEED} mutant #${mutant.index} (${mutant.base}; ${mutant.kinds.join(' + ')}; ${mutant.text.length} chars): ${problem}`);
      }
    }
    times.sort((a, b) => a - b);
    const at = (q: number): string => (times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0).toFixed(1);
    console.log(
      `spec fuzz: seed ${SEED}, ${COUNT} mutants in ${((performance.now() - started) / 1000).toFixed(1)} s, ${accepted} accepted; ` +
        `parse ms p50 ${at(0.5)}, p99 ${at(0.99)}, max ${at(1)}`,
    );
    // The seed is in every line: SPEC_FUZZ_SEED=<seed> reproduces the run.
    expect(failures.slice(0, 20), `seed ${SEED}: ${failures.length} failure(s)`).toEqual([]);
  }, 60_000 + COUNT * 100);

  test('the same seed gives the same mutants', () => {
    const first = [...mutants(7, 30)].map((m) => m.text);
    const second = [...mutants(7, 30)].map((m) => m.text);
    expect(second).toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(20);
  });
});
