/**
 * An idle agent's RSS over minutes, and its storage-servers' (issue 17), beside a bare `node` TCP
 * server read at the same moments. The lean bench (lean.bench.ts) reads each idle process twice, 3 s and 15 s after it
 * serves; an agent supervising nodes keeps working (health checks, heartbeats), so its heap breathes
 * between collections, and this bench reads it every few seconds for as long as asked, from 15 s
 * after its nodes were spawned.
 *
 * Run: `node dist/bench/agent-rss.bench.js [minutes=4] [nodes=4] [everySeconds=5]` (after `npm run
 * build`). $LEAN_BEFORE=/path/of/another/built/checkout runs that build's agent beside this one's,
 * under the same master, with as many nodes. Prints min, median and max per process, and each as a
 * ratio to the bare server's median.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentConfig, rssMb, spawnIdleNodes, startDaemon, stopDaemons } from './bench-support.js';

const MINUTES = Number(process.argv[2] ?? 4);
const NODES = Number(process.argv[3] ?? 4);
const EVERY_MS = Number(process.argv[4] ?? 5) * 1000;
const BEFORE = process.env['LEAN_BEFORE'];
/** Readings start once start-up's garbage is collected: the lean bench's settled time (lean.bench.ts, SETTLED_MS). */
const SETTLE_MS = 15_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const sorted = (v: number[]): number[] => [...v].sort((a, b) => a - b);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'agent-rss-bench-'));
  const daemons: ChildProcess[] = [];
  try {
    const master = await startDaemon(['master', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'master')], /master listening on ([^\s"]+)/);
    daemons.push(master.proc);
    /** What is read: a label and its processes (the largest RSS of them counts). */
    const watched: Array<[string, number[]]> = [];
    const builds: Array<[string, string | undefined]> = [['agent', undefined]];
    if (BEFORE !== undefined) builds.push(['before: agent', join(BEFORE, 'bin', 'sutra-grid.js')]);
    for (const [i, [label, cli]] of builds.entries()) {
      const name = `watched${i}`;
      const agent = await startDaemon(['agent', '--config', agentConfig(dir, name, master.address)], new RegExp(`agent ${name} listening on (\\S+)`), cli);
      daemons.push(agent.proc);
      const nodes = await spawnIdleNodes(agent.address, NODES);
      watched.push([`${label}, ${NODES} nodes`, [agent.proc.pid!]]);
      if (nodes.length > 0) watched.push([`${label.replace('agent', 'its storage-servers')} (the largest of ${nodes.length})`, nodes]);
    }
    const bare = spawn(process.execPath, ['-e', "require('net').createServer().listen(0, '127.0.0.1')"], { stdio: 'ignore' });
    daemons.push(bare);
    watched.push(['bare node TCP server', [bare.pid!]]);

    await sleep(SETTLE_MS);
    const readings = new Map<string, number[]>(watched.map(([label]) => [label, []]));
    const loads: number[] = [];
    const end = Date.now() + MINUTES * 60_000;
    while (Date.now() < end) {
      await sleep(EVERY_MS);
      for (const [label, pids] of watched) readings.get(label)!.push(Math.max(...pids.map(rssMb)));
      loads.push(loadavg()[0]!);
    }

    const bareMedian = sorted(readings.get('bare node TCP server')!)[readings.get('bare node TCP server')!.length >> 1]!;
    console.log(`\nidle RSS over ${MINUTES} min, read every ${EVERY_MS / 1000} s (from ${SETTLE_MS / 1000} s after the nodes were spawned), load average (1 min) ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}\n`);
    console.log('| process | n | min MB | median MB | max MB | min / median / max vs bare median |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    const out: Record<string, { min: number; median: number; max: number }> = {};
    for (const [label, values] of readings) {
      const s = sorted(values);
      const r = { min: s[0]!, median: s[s.length >> 1]!, max: s[s.length - 1]! };
      out[label] = r;
      const ratio = (mb: number): string => `${(mb / bareMedian).toFixed(3)}x`;
      console.log(`| ${label} | ${s.length} | ${r.min.toFixed(1)} | ${r.median.toFixed(1)} | ${r.max.toFixed(1)} | ${ratio(r.min)} / ${ratio(r.median)} / ${ratio(r.max)} |`);
    }
    console.log(JSON.stringify({ minutes: MINUTES, nodes: NODES, everyMs: EVERY_MS, load: [Math.min(...loads), Math.max(...loads)], rssMb: out }));
  } finally {
    await stopDaemons(daemons);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
