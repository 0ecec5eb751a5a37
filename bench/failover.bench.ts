/**
 * Master failover benchmark (issue 15), one run on this machine:
 *  - failover time: three masters on a three-member etcd (Debian's /usr/bin/etcd, started here on
 *    loopback), the leader killed with -9; measured from the kill to the moment another master
 *    logged that it leads, and to its first reconcile pass as leader (the pass that plans and
 *    acts: a destroy goes at once, creations after the --settle wait for agents), each by its log
 *    line's timestamp. p50/p99 over `kills` kills; the killed master is started again after each,
 *    so three are always up.
 *  - ApplySpec latency (a changed spec every time, so each call stores a new generation) and plan
 *    latency (dry run), on the etcd leader and on a lone master with the file store, interleaved.
 *
 * Run: `npm run build && node dist/bench/failover.bench.js [kills=20] [applies=50] [leaseTtlSeconds=2]`
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MasterClient } from '../client/index.js';
import { CLI, freePort } from './bench-support.js';

const KILLS = Number(process.argv[2] ?? 20);
const APPLIES = Number(process.argv[3] ?? 50);
const TTL_S = Number(process.argv[4] ?? 2);
const ETCD = process.env['ETCD_BIN'] ?? '/usr/bin/etcd';

interface Proc {
  readonly proc: ChildProcess;
  readonly address: string;
  logs: string;
}

const percentile = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function startEtcd(root: string): Promise<{ procs: ChildProcess[]; url: string }> {
  const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()));
  const names = ['m0', 'm1', 'm2'];
  const cluster = names.map((n, i) => `${n}=http://127.0.0.1:${ports[2 * i + 1]}`).join(',');
  const procs = names.map((n, i) =>
    spawn(ETCD, [
      '--name', n, '--data-dir', join(root, n),
      '--listen-client-urls', `http://127.0.0.1:${ports[2 * i]}`, '--advertise-client-urls', `http://127.0.0.1:${ports[2 * i]}`,
      '--listen-peer-urls', `http://127.0.0.1:${ports[2 * i + 1]}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${ports[2 * i + 1]}`,
      '--initial-cluster', cluster, '--initial-cluster-state', 'new', '--log-level', 'warn', '--logger', 'zap',
    ], { stdio: 'ignore' }),
  );
  return { procs, url: `etcd://${names.map((_, i) => `127.0.0.1:${ports[2 * i]}`).join(',')}` };
}

function startMaster(dataDir: string, extra: string[]): Promise<Proc> {
  const proc = spawn(process.execPath, [CLI, 'master', '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...extra], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info', LOG_FORMAT: 'json' } });
  return new Promise((res, rej) => {
    const p: { logs: string; address?: string } = { logs: '' };
    const on = (c: Buffer): void => {
      p.logs += c.toString();
      const m = /master listening on ([^\s"]+)/.exec(p.logs);
      if (m && p.address === undefined) {
        p.address = m[1]!;
        res(Object.assign(p, { proc, address: m[1]! }) as Proc);
      }
    };
    proc.stdout!.on('data', on);
    proc.stderr!.on('data', on);
    proc.once('exit', (code) => rej(new Error(`master exited ${code}: ${p.logs}`)));
  });
}

/** Timestamps (ms) of the master's log lines saying `what`. */
function loggedAt(m: Proc, what: string): number[] {
  return m.logs
    .split('\n')
    .filter((l) => l.includes(what))
    .map((l) => (JSON.parse(l) as { time: number }).time);
}

const ledAt = (m: Proc): number[] => loggedAt(m, 'this master leads');
const actedAt = (m: Proc): number[] => loggedAt(m, 'first reconcile pass as leader');

async function waitFor<T>(fn: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const specJson = (nodes: number): string =>
  JSON.stringify({ name: 'bench', agents: [{ id: 'a1', platform: 'process', capacity: { nodes: 100 } }], clusters: [{ name: 'kv', nodes }] });

async function applyLatencies(client: MasterClient, n: number, dryRun: boolean): Promise<number[]> {
  const out: number[] = [];
  let { generation } = await client.getSpec();
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await client.applySpec(specJson(1 + ((generation + i) % 7)), dryRun ? undefined : generation, dryRun);
    out.push(performance.now() - t0);
    if (!dryRun) generation = r.generation;
  }
  return out;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'failover-bench-'));
  const etcd = await startEtcd(root);
  const masters: Proc[] = [];
  const all: Proc[] = [];
  const storeArgs = ['--store', etcd.url, '--lease-ttl', String(TTL_S)];
  try {
    for (let i = 0; i < 3; i++) {
      const m = await startMaster(join(root, `master-${i}`), storeArgs);
      masters.push(m);
      all.push(m);
    }
    const samples: number[] = [];
    const acted: number[] = [];
    let leader = await waitFor(() => masters.find((m) => ledAt(m).length > 0), 60_000, 'a first leader');
    for (let k = 0; k < KILLS; k++) {
      const killedAt = Date.now();
      leader.proc.kill('SIGKILL');
      await new Promise((r) => leader.proc.once('exit', r));
      const slot = masters.indexOf(leader);
      const next = await waitFor(() => masters.find((m) => m !== leader && ledAt(m).some((t) => t >= killedAt)), 60_000, 'a new leader');
      samples.push(Math.max(...ledAt(next).filter((t) => t >= killedAt)) - killedAt);
      const pass = await waitFor(() => actedAt(next).find((t) => t >= killedAt), 60_000, 'the new leader\'s first reconcile pass');
      acted.push(pass - killedAt);
      masters[slot] = await startMaster(join(root, `master-r${k}`), storeArgs);
      all.push(masters[slot]);
      leader = next;
      process.stdout.write(`kill ${k + 1}/${KILLS}: leads after ${samples.at(-1)} ms, first reconcile pass after ${acted.at(-1)} ms\n`);
    }

    const file = await startMaster(join(root, 'file-master'), []);
    all.push(file);
    const onEtcd = new MasterClient({ address: masters.map((m) => m.address).join(',') });
    const onFile = new MasterClient({ address: file.address });
    const lat = { etcdApply: [] as number[], fileApply: [] as number[], etcdPlan: [] as number[], filePlan: [] as number[] };
    // Interleaved in rounds of 10, so both stores see the same machine load.
    for (let done = 0; done < APPLIES; done += 10) {
      const n = Math.min(10, APPLIES - done);
      lat.etcdApply.push(...(await applyLatencies(onEtcd, n, false)));
      lat.fileApply.push(...(await applyLatencies(onFile, n, false)));
      lat.etcdPlan.push(...(await applyLatencies(onEtcd, n, true)));
      lat.filePlan.push(...(await applyLatencies(onFile, n, true)));
    }
    onEtcd.close();
    onFile.close();
    const line = (name: string, xs: number[]): string => `${name.padEnd(26)} n=${String(xs.length).padStart(3)}  p50 ${percentile(xs, 50).toFixed(1).padStart(7)} ms  p99 ${percentile(xs, 99).toFixed(1).padStart(7)} ms`;
    console.log(`\nlease TTL ${TTL_S}s; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log(line('failover (kill -9 -> leads)', samples));
    console.log(line('failover (kill -9 -> 1st pass)', acted));
    console.log(line('ApplySpec, etcd', lat.etcdApply));
    console.log(line('ApplySpec, file', lat.fileApply));
    console.log(line('plan (dry run), etcd', lat.etcdPlan));
    console.log(line('plan (dry run), file', lat.filePlan));
  } finally {
    for (const m of all) m.proc.kill('SIGKILL');
    for (const p of etcd.procs) p.kill('SIGKILL');
    await sleep(300);
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
