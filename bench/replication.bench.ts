/**
 * Replication benchmark (issue 12), in one run with its cases interleaved so all see the same
 * machine:
 * 1. LearnConcept on a leader with two replicas, `async` and `sync` (quorum 1), beside the same
 *    storage-server with no replication (standalone): writes/s and p50/p99 latency, one client,
 *    sequential and with 16 calls in flight. Storage-servers are started by hand from the lean
 *    entry agents spawn, with the replication flags; each round runs every case, in a rotating order.
 * 2. Replication lag (async): from a write's acknowledgement on the leader until a replica serves
 *    it (QueryConcept polled back to back on both replicas).
 * 3. Failover: a real grid (master + 3 agents as processes) with a 3-node sync cluster; the leader's
 *    agent and storage process killed with -9; time until a node accepts a write (the client tries
 *    every node every ~20 ms), beside the master's AgentOffline and LeaderChanged. One failover per
 *    round, on a fresh grid, torn down before the next round's writes.
 *
 * Run: `npm run build && node dist/bench/replication.bench.js [rounds=5] [writes=500] [concurrentWrites=2000] [lagSamples=100] [offlineAfterMs=1600]`
 * (concurrentWrites 0 skips the concurrency-16 case; offlineAfterMs 0 skips failover.)
 */
import { loadavg } from 'node:os';
import { failoverOnce, HEARTBEAT_MS, type FailoverSample } from './failover-grid.js';
import { BenchScope, BenchStorageClient, pct, waitFor } from './replication-support.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const WRITES = Number(process.argv[3] ?? 500);
const CONC_WRITES = Number(process.argv[4] ?? 2000);
const LAG_SAMPLES = Number(process.argv[5] ?? 100);
const OFFLINE_AFTER_MS = Number(process.argv[6] ?? 1600);
const CONCURRENCY = 16;

type Mode = 'standalone' | 'async' | 'sync';

/** One storage setup under test and what was measured on it. */
interface Setup {
  readonly mode: Mode;
  readonly leader: BenchStorageClient;
  readonly replicas: readonly BenchStorageClient[];
  readonly seq: Batch;
  readonly conc: Batch;
}

/** Latencies of every write, and the rate of each round's batch. */
interface Batch {
  readonly latencies: number[];
  readonly rates: number[];
}

const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
const median = (xs: readonly number[]): number => pct(xs, 50);
const newBatch = (): Batch => ({ latencies: [], rates: [] });

/** Starts a standalone node, or a leader in `mode` with two replicas following it, and waits until both stream from it. */
async function startSetup(scope: BenchScope, mode: Mode): Promise<Setup> {
  if (mode === 'standalone') {
    const s = await scope.storage('standalone', []);
    return { mode, leader: new BenchStorageClient(s.address), replicas: [], seq: newBatch(), conc: newBatch() };
  }
  // The flags an agent gives a sync cluster's nodes: the leader's durability and quorum on every node.
  const durability = mode === 'sync' ? ['--durability', 'sync', '--sync-quorum', '1'] : ['--durability', 'async'];
  const leader = await scope.storage(`${mode}-0`, ['--role', 'leader', '--node-id', `${mode}-0`, '--cluster', mode, '--term', '1', ...durability]);
  const replicas = await Promise.all([1, 2].map((i) =>
    scope.storage(`${mode}-${i}`, ['--role', 'replica', '--node-id', `${mode}-${i}`, '--cluster', mode, '--leader', leader.address, '--term', '1', ...durability])));
  const lc = new BenchStorageClient(leader.address);
  await waitFor(`${mode}: both replicas streaming from the leader`, async () => ((await lc.status()).replicas.filter((r) => r.connected).length === 2 ? true : undefined));
  return { mode, leader: lc, replicas: replicas.map((r) => new BenchStorageClient(r.address)), seq: newBatch(), conc: newBatch() };
}

/** Writes `n` concepts with `concurrency` calls in flight; records each call's latency and the batch's rate. */
async function writeBatch(c: BenchStorageClient, prefix: string, n: number, concurrency: number, into: Batch | undefined): Promise<void> {
  let next = 0;
  const lat: number[] = [];
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < n) {
      const id = `${prefix}-${next++}`;
      const t = performance.now();
      await c.learn(id);
      lat.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - t0;
  if (into === undefined) return;
  into.latencies.push(...lat);
  into.rates.push((n / ms) * 1000);
}

/** Lag of `n` writes, one at a time: ack on the leader -> QueryConcept finds it, per replica. */
async function lagSamples(s: Setup, round: number, n: number, perReplica: number[], onAll: number[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const id = `lag-${round}-${i}`;
    await s.leader.learn(id);
    const t0 = performance.now();
    const lags = await Promise.all(s.replicas.map(async (r) => {
      while (!(await r.found(id))) {
        if (performance.now() - t0 > 30_000) throw new Error(`${id} not on replica ${r.address} 30 s after its ack`);
      }
      return performance.now() - t0;
    }));
    perReplica.push(...lags);
    onAll.push(Math.max(...lags));
  }
}

/** Rotates `xs` left by `k`: each round starts with another case. */
const rotate = <T>(xs: readonly T[], k: number): T[] => xs.map((_, i) => xs[(i + k) % xs.length]!);

const f1 = (x: number): string => (Number.isNaN(x) ? '-' : x.toFixed(x < 10 ? 2 : x < 100 ? 1 : 0));

function report(setups: readonly Setup[], lag: { perReplica: number[]; onAll: number[] }, failovers: readonly FailoverSample[], loads: { before: string; after: string; rounds: string[] }): void {
  const base = setups.find((s) => s.mode === 'standalone')!;
  console.log(`\nload average (1/5/15 min): before ${loads.before}; after ${loads.after}; at each round ${loads.rounds.join(' | ')}`);
  console.log(`\n| writes (LearnConcept, one client) | n | writes/s (median of ${ROUNDS} rounds) | p50 ms | p99 ms | writes/s vs standalone | p50 vs standalone | p99 vs standalone |`);
  console.log('|---|---|---|---|---|---|---|---|');
  for (const kind of ['seq', 'conc'] as const) {
    if (kind === 'conc' && CONC_WRITES === 0) continue;
    const b = base[kind];
    for (const s of setups) {
      const m = s[kind];
      const label = `${s.mode === 'standalone' ? 'standalone (no replication)' : `${s.mode}${s.mode === 'sync' ? ' (quorum 1)' : ''}, leader + 2 replicas`}, ${kind === 'seq' ? 'sequential' : `concurrency ${CONCURRENCY}`}`;
      console.log(`| ${label} | ${m.latencies.length} | ${f1(median(m.rates))} | ${f1(pct(m.latencies, 50))} | ${f1(pct(m.latencies, 99))} | ${(median(m.rates) / median(b.rates)).toFixed(2)}x | ${(pct(m.latencies, 50) / pct(b.latencies, 50)).toFixed(2)}x | ${(pct(m.latencies, 99) / pct(b.latencies, 99)).toFixed(2)}x |`);
    }
  }
  if (LAG_SAMPLES > 0) {
    console.log('\n| replication lag, async: ack on the leader -> readable on a replica | n | p50 ms | p99 ms | max ms |');
    console.log('|---|---|---|---|---|');
    console.log(`| on a replica (each of the 2) | ${lag.perReplica.length} | ${f1(pct(lag.perReplica, 50))} | ${f1(pct(lag.perReplica, 99))} | ${f1(pct(lag.perReplica, 100))} |`);
    console.log(`| on both replicas | ${lag.onAll.length} | ${f1(pct(lag.onAll, 50))} | ${f1(pct(lag.onAll, 99))} | ${f1(pct(lag.onAll, 100))} |`);
  }
  if (failovers.length > 0) {
    const col = (f: (s: FailoverSample) => number): number[] => failovers.map(f);
    const row = (name: string, xs: number[]): string =>
      `| ${name} | ${xs.length} | ${f1(median(xs))} | ${f1(median(xs) - OFFLINE_AFTER_MS)} | ${f1(Math.min(...xs))}–${f1(Math.max(...xs))} | ${xs.map((x) => x.toFixed(0)).join(', ')} |`;
    console.log(`\n| failover, sync 3-node cluster, leader host kill -9 (offlineAfter ${OFFLINE_AFTER_MS} ms, heartbeat ${HEARTBEAT_MS} ms) | n | median ms | median - offlineAfter | range | samples |`);
    console.log('|---|---|---|---|---|---|');
    console.log(row('kill -> AgentOffline (master event)', col((s) => s.offlineMs)));
    console.log(row('kill -> LeaderChanged (master event)', col((s) => s.leaderChangedMs)));
    console.log(row('kill -> first write accepted by the new leader', col((s) => s.firstWriteMs)));
  }
  const summary = (b: Batch): object => ({ n: b.latencies.length, ratePerS: Math.round(median(b.rates)), p50: pct(b.latencies, 50), p99: pct(b.latencies, 99) });
  console.log(`\n${JSON.stringify({
    rounds: ROUNDS, writesPerRound: WRITES, concurrentWritesPerRound: CONC_WRITES, lagSamplesPerRound: LAG_SAMPLES, load: loads,
    writes: Object.fromEntries(setups.map((s) => [s.mode, { seq: summary(s.seq), conc: summary(s.conc) }])),
    lag: { n: lag.perReplica.length, p50: pct(lag.perReplica, 50), p99: pct(lag.perReplica, 99), bothP99: pct(lag.onAll, 99) },
    failover: { offlineAfterMs: OFFLINE_AFTER_MS, samples: failovers },
  })}`);
}

async function main(): Promise<void> {
  const scope = new BenchScope();
  // An interrupted run leaves nothing behind either.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      scope.sweep();
      process.exit(130);
    });
  }
  const loads = { before: load(), after: '', rounds: [] as string[] };
  const setups: Setup[] = [];
  const lag = { perReplica: [] as number[], onAll: [] as number[] };
  const failovers: FailoverSample[] = [];
  try {
    for (const mode of ['standalone', 'async', 'sync'] as const) setups.push(await startSetup(scope, mode));
    // Warm-up (JIT, page cache, replication streams), not measured.
    for (const s of setups) {
      await writeBatch(s.leader, 'warm-seq', 200, 1, undefined);
      if (CONC_WRITES > 0) await writeBatch(s.leader, 'warm-conc', 500, CONCURRENCY, undefined);
    }
    const asyncSetup = setups.find((s) => s.mode === 'async')!;
    for (let round = 0; round < ROUNDS; round++) {
      loads.rounds.push(load());
      for (const s of rotate(setups, round)) await writeBatch(s.leader, `seq-${round}`, WRITES, 1, s.seq);
      if (CONC_WRITES > 0) for (const s of rotate(setups, round)) await writeBatch(s.leader, `conc-${round}`, CONC_WRITES, CONCURRENCY, s.conc);
      await lagSamples(asyncSetup, round, LAG_SAMPLES, lag.perReplica, lag.onAll);
      if (OFFLINE_AFTER_MS > 0) {
        const f = await failoverOnce(scope, OFFLINE_AFTER_MS);
        failovers.push(f);
        console.log(`round ${round + 1}: failover ${f.oldLeader} -> ${f.newLeader}: offline ${f.offlineMs.toFixed(0)} ms, LeaderChanged ${f.leaderChangedMs.toFixed(0)} ms, first write ${f.firstWriteMs.toFixed(0)} ms`);
      }
      console.log(`round ${round + 1} of ${ROUNDS} done (load ${load()})`);
    }
    loads.after = load();
  } finally {
    for (const s of setups) for (const c of [s.leader, ...s.replicas]) c.close();
    scope.sweep();
  }
  report(setups, lag, failovers, loads);
}

await main();
