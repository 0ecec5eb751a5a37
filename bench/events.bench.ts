/**
 * Event library benchmark: emit() latency and sustained durable throughput, counted back from the
 * store after close. Run: `npm run build && node dist/bench/events.bench.js [seconds] [emits-per-yield]`.
 *
 * Targets (issue 4): emit() p99 <= 50 us; >= 50,000 durable events/s.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { EventBus, EventLog, type EventInput } from '../runtime/events/index.js';

const SECONDS = Number(process.argv[2] ?? 5);
/** Emits between yields, so the writer gets the loop as it would in the master. */
const CHUNK = Number(process.argv[3] ?? 500);

function event(n: number): EventInput {
  return { type: 'SpawnSucceeded', agentId: `agent-${n % 16}`, nodeId: `node-${n}`, cluster: 'main', payload: { pid: 10_000 + (n % 50_000), port: 7000 + (n % 1000), durationMs: n % 300 } };
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}

async function latency(dir: string): Promise<void> {
  const bus = await EventBus.open(dir, { maxPending: 5_000_000 });
  const n = 200_000;
  for (let i = 0; i < 20_000; i++) bus.emit(event(i)); // warm up the JIT
  await bus.flush();
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    bus.emit(event(i));
    samples[i] = (performance.now() - t0) * 1000;
    if (i % CHUNK === 0) await yieldLoop();
  }
  await bus.close();
  samples.sort();
  const f = (v: number) => v.toFixed(2);
  console.log(`emit() latency over ${n} calls (us): p50 ${f(percentile(samples, 0.5))}  p99 ${f(percentile(samples, 0.99))}  p99.9 ${f(percentile(samples, 0.999))}  max ${f(samples[n - 1] as number)}`);
}

async function throughput(dir: string): Promise<void> {
  const bus = await EventBus.open(dir, { maxPending: 5_000_000 });
  const t0 = performance.now();
  const until = t0 + SECONDS * 1000;
  let emitted = 0;
  while (performance.now() < until) {
    for (let i = 0; i < CHUNK; i++) bus.emit(event(emitted++));
    await yieldLoop();
  }
  const emitDone = performance.now();
  await bus.close();
  const elapsedS = (performance.now() - t0) / 1000;
  const { dropped } = bus.stats();

  // Count back from the store: every record read and CRC-checked.
  const log = await EventLog.open(dir, { cacheSize: 0 });
  let counted = 0;
  for (let from = log.firstIndex; from <= log.lastIndex; ) {
    const chunk = await log.read(from, 8192);
    counted += chunk.length;
    from += chunk.length;
    if (chunk.length === 0) break;
  }
  await log.close();
  console.log(
    `sustained: emitted ${emitted} in ${((emitDone - t0) / 1000).toFixed(2)} s, durable after close ${counted} ` +
      `(dropped ${dropped}) in ${elapsedS.toFixed(2)} s => ${Math.round(counted / elapsedS)} durable events/s`,
  );
  if (counted !== emitted) console.log(`MISMATCH: emitted ${emitted}, counted back ${counted}`);
}

const root = await mkdtemp(join(tmpdir(), 'events-bench-'));
try {
  await latency(join(root, 'latency'));
  await throughput(join(root, 'throughput'));
} finally {
  await rm(root, { recursive: true, force: true });
}
