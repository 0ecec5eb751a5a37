/**
 * Issue 17's whole table from one command: runs, one after another, the interleaved lean bench
 * (lean.bench.ts: start-up, restart, CLI and idle RSS beside Node's floor, pm2 and supervisord), the
 * agent's RSS over minutes (agent-rss.bench.ts), apply of 100 nodes over 10 agents (apply.bench.ts)
 * and the master under 10,000 agents on HeartbeatStream (heartbeat.bench.ts), then prints every
 * row with its baseline, ratio, target and verdict. Each bench prints its own table as it goes (on
 * stderr here); this reads the JSON line each ends with.
 *
 * Run: `npm run bench:lean` (builds first) or `node dist/bench/lean-report.bench.js [rounds=20]
 * [watchMinutes=4]`. PM2_BIN and LEAN_BEFORE are passed to the lean and agent RSS benches (see
 * lean.bench.ts). The apply and heartbeat benches need minutes of both cores each: nothing else
 * should run meanwhile.
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';

const ROUNDS = process.argv[2] ?? '20';
const WATCH_MINUTES = process.argv[3] ?? '4';

/** Runs `dist/bench/<script>` with `args`, its output shown on stderr; resolves with its last JSON line. */
function runBench(script: string, args: readonly string[]): Promise<Record<string, unknown>> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [join(import.meta.dirname, script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      process.stderr.write(c);
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const json = out.trim().split('\n').reverse().find((l) => l.startsWith('{'));
      if (code !== 0 || json === undefined) reject(new Error(`${script} exited ${code ?? signal} without its JSON result`));
      else resolveRun(JSON.parse(json) as Record<string, unknown>);
    });
  });
}

interface Row {
  readonly what: string;
  readonly measured: string;
  readonly baseline: string;
  readonly ratio: number | undefined;
  readonly target: string;
  readonly met: boolean;
}

const x = (n: number): string => `${n.toFixed(2)}x`;
const ms = (n: number): string => `${n.toFixed(1)} ms`;
const mb = (n: number): string => `${n.toFixed(1)} MB`;

async function main(): Promise<void> {
  const loads = [loadavg()[0]!];
  const lean = await runBench('lean.bench.js', [ROUNDS]);
  loads.push(loadavg()[0]!);
  const watch = await runBench('agent-rss.bench.js', [WATCH_MINUTES, '4', '5']);
  loads.push(loadavg()[0]!);
  const apply = await runBench('apply.bench.js', ['3', '100', '10']);
  loads.push(loadavg()[0]!);
  const beats = await runBench('heartbeat.bench.js', ['10000', '--mode', 'stream', '--measure', '20s']);
  loads.push(loadavg()[0]!);

  const m = lean['medians'] as Record<string, number>;
  const rss = lean['rssMb'] as Record<string, { startup: number; settled: number }>;
  const floor = m['floor: node TCP server start -> accepting']!;
  const e0 = m['node -e 0']!;
  const pm2 = Object.keys(m).find((k) => k.startsWith('kill -9 -> SERVING again: pm2'));
  const jlist = Object.keys(m).find((k) => k.endsWith(' jlist'));
  const bare = rss['bare node TCP server']!;
  const rows: Row[] = [];
  const timed = (what: string, key: string, base: number, baseName: string, limit: number, extra?: { peer: number; name: string }): void => {
    const r = m[key]! / base;
    const ahead = extra === undefined || m[key]! < extra.peer;
    rows.push({
      what,
      measured: ms(m[key]!),
      baseline: `${baseName} ${ms(base)}${extra ? `; ${extra.name} ${ms(extra.peer)}` : ''}`,
      ratio: r,
      target: `≤ ${limit}x${extra ? `, ahead of ${extra.name}` : ''}`,
      met: r <= limit && ahead,
    });
  };
  timed('storage-server start → SERVING', 'storage-server start -> SERVING', floor, 'floor', 1.5);
  timed('grid spawn → running', 'grid spawn -> running', floor, 'floor', 1.6);
  timed('kill -9 → SERVING again, grid agent', 'kill -9 -> SERVING again: grid agent', floor, 'floor', 1.6, pm2 ? { peer: m[pm2]!, name: 'pm2' } : undefined);
  timed('`sutra-grid status`', 'sutra-grid status', e0, '`node -e 0`', 1.5, jlist ? { peer: m[jlist]!, name: 'pm2 jlist' } : undefined);
  for (const name of ['storage-server (idle)', 'agent, 0 nodes', 'agent, 4 nodes']) {
    const r = rss[name]!;
    const worst = Math.max(r.startup / bare.startup, r.settled / bare.settled);
    rows.push({ what: `idle RSS, ${name}: 3 s / settled`, measured: `${mb(r.startup)} / ${mb(r.settled)}`, baseline: `bare node server ${mb(bare.settled)}`, ratio: worst, target: '≤ 1.2x', met: worst <= 1.2 });
  }
  const w = watch['rssMb'] as Record<string, { min: number; median: number; max: number }>;
  const agentWatch = w['agent, 4 nodes']!;
  const bareWatch = w['bare node TCP server']!.median;
  rows.push({
    what: `idle RSS, agent with 4 nodes over ${WATCH_MINUTES} min: min / median / max`,
    measured: `${mb(agentWatch.min)} / ${mb(agentWatch.median)} / ${mb(agentWatch.max)}`,
    baseline: `bare node server ${mb(bareWatch)}`,
    ratio: agentWatch.max / bareWatch,
    target: '≤ 1.2x (at every reading)',
    met: agentWatch.max / bareWatch <= 1.2,
  });
  const nodesWatch = Object.entries(w).find(([k]) => k.startsWith('its storage-servers'))?.[1];
  if (nodesWatch !== undefined) {
    rows.push({
      what: `idle RSS, the agent's storage-servers over ${WATCH_MINUTES} min (the largest of 4): min / median / max`,
      measured: `${mb(nodesWatch.min)} / ${mb(nodesWatch.median)} / ${mb(nodesWatch.max)}`,
      baseline: `bare node server ${mb(bareWatch)}`,
      ratio: nodesWatch.max / bareWatch,
      target: '≤ 1.2x (at every reading)',
      met: nodesWatch.max / bareWatch <= 1.2,
    });
  }
  const applyRatio = apply['ratio'] as number;
  rows.push({
    what: 'apply 100 nodes over 10 local agents',
    measured: ms(apply['applyMedianMs'] as number),
    baseline: `100 bare starts one after another ${ms(apply['sequentialBareMs'] as number)}`,
    ratio: applyRatio,
    target: '≤ 0.55x',
    met: applyRatio <= 0.55,
  });
  const fleet = (beats['results'] as Array<{ p99Ms: number; rssMb: number; peakRssMb: number }>)[0]!;
  rows.push({
    what: 'master, 10,000 agents on HeartbeatStream',
    measured: `p99 ${ms(fleet.p99Ms)}; RSS ${mb(fleet.rssMb)} (peak ${mb(fleet.peakRssMb)})`,
    baseline: '—',
    ratio: undefined,
    target: 'p99 ≤ 5 ms, RSS ≤ 200 MB',
    met: fleet.p99Ms <= 5 && fleet.rssMb <= 200,
  });

  console.log(`\nissue 17, the whole table: load average (1 min) ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} between the benches\n`);
  console.log('| what | measured | baseline / peer in the same run | ratio | target | verdict |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.what} | ${r.measured} | ${r.baseline} | ${r.ratio === undefined ? '—' : x(r.ratio)} | ${r.target} | ${r.met ? 'met' : '**not met**'} |`);
  console.log(JSON.stringify({ load: loads, rows }));
}

await main();
