/**
 * The CLI's verbs for spec files and its global flags (issue 17: "a CLI call is 95% start-up"):
 * `sutra-grid --version`, `--help`, `validate FILE` and `plan FILE` against a running master, each
 * beside `node -e 0` in one interleaved run (every case once per round, in a rotating order, so all
 * see the same load). Figures are medians; each is also given as a ratio to `node -e 0`.
 *
 * Run: `node dist/bench/cli-verbs.bench.js [rounds=20]` after `npm run build`. $LEAN_BEFORE=/path/of/
 * another/built/checkout runs that build's CLI in the same rounds, against the same master.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, REPO, startDaemon, stopDaemons } from './bench-support.js';

const ROUNDS = Number(process.argv[2] ?? 20);
const BEFORE = process.env['LEAN_BEFORE'];
const SPEC = join(REPO, 'examples', 'local', 'grid.yaml');

const samples = new Map<string, number[]>();
const median = (v: readonly number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Runs `args` with node to its exit; its wall time in ms. Fails on an exit code not in `codes`. */
function timed(args: readonly string[], codes: readonly number[]): number {
  const start = process.hrtime.bigint();
  const res = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (!codes.includes(res.status ?? -1)) throw new Error(`node ${args.join(' ')} exited ${res.status ?? res.signal}: ${String(res.stderr)}`);
  return ms;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cli-verbs-bench-'));
  const daemons = [];
  try {
    const master = await startDaemon(['master', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'master')], /master listening on ([^\s"]+)/);
    daemons.push(master.proc);
    const builds: Array<[string, string]> = [['', CLI]];
    if (BEFORE !== undefined) builds.push(['before: ', join(BEFORE, 'bin', 'sutra-grid.js')]);
    const cases: Array<[string, () => number]> = [['node -e 0', () => timed(['-e', '0'], [0])]];
    for (const [label, cli] of builds) {
      cases.push(
        // A build before --version existed refuses it (exit 1), after the same start-up.
        [`${label}--version`, () => timed([cli, '--version'], label === '' ? [0] : [0, 1])],
        [`${label}--help`, () => timed([cli, '--help'], [0])],
        [`${label}validate`, () => timed([cli, 'validate', SPEC], [0])],
        // Exit 2: the plan has changes (nothing is applied to this master).
        [`${label}plan`, () => timed([cli, '--master', master.address, 'plan', SPEC], [2])],
      );
    }
    // A warm-up round, not recorded: the page cache, and the master's first plan.
    for (const [, run] of cases) run();
    const loads: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < cases.length; i++) {
        const [name, run] = cases[(i + round) % cases.length]!;
        (samples.get(name) ?? samples.set(name, []).get(name)!).push(run());
      }
      loads.push(loadavg()[0]!);
    }
    const floor = median(samples.get('node -e 0')!);
    console.log(`\nCLI calls, ${ROUNDS} interleaved rounds, load average (1 min) ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}\n`);
    console.log('| call | median ms | vs node -e 0 |');
    console.log('| --- | --- | --- |');
    const out: Record<string, number> = {};
    for (const [name] of cases) {
      const m = median(samples.get(name)!);
      out[name] = m;
      console.log(`| ${name} | ${m.toFixed(1)} | ${(m / floor).toFixed(2)}x |`);
    }
    console.log(JSON.stringify({ rounds: ROUNDS, load: [Math.min(...loads), Math.max(...loads)], medianMs: out }));
  } finally {
    await stopDaemons(daemons);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
