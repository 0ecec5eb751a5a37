/**
 * The cost of TLS (issue 14): the same master under 1,000 simulated agents with mutual TLS and
 * without, and the time for a real agent process to join.
 *
 * Heartbeats: as bench/heartbeat.bench.ts, a few channels multiplex all agent ids (one process
 * cannot hold 1,000 real agents' connections on this machine: one channel per agent stalled in
 * connecting), each agent id one HeartbeatStream beating every 5 s with a two-node list, beats
 * spread evenly over the interval. With TLS every channel is mutual TLS with a client certificate
 * of the grid CA, and carries the shared token: one certificate cannot speak for many agent ids,
 * so the per-call check is the token's (a constant-time compare), not a certificate's (a SAN parse
 * and a revocation lookup). Without TLS the same channels are plaintext with no token. Reports
 * heartbeat p50/p99 and the master's CPU (from /proc/<pid>/stat) over the measure window. Rounds
 * alternate which mode goes first, so a change of the machine's load falls on both.
 *
 * Join: `token create` (CreateJoinToken over TLS) → a real `sutra-grid agent --join TOKEN
 * --ca-hash …` process → the master lists it, against a plaintext agent's start → listed.
 *
 * Run: `npm run bench:tls -- [--rounds 2] [--agents 1000] [--measure 20s] [--joins 5]`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import { GridMasterClient } from '../proto/gen/sutra/grid/v1/grid.pb.js';
import { createJoinToken, insecureCredentials, unary } from '../client/index.js';
import { TLS_CHANNEL_OPTIONS, TlsSource, tlsChannelCredentials } from '../client/transport.js';
import { caHash, createCa, createCsr, issueLeaf, newPrivateKey, type KeyAndCert } from '../runtime/common/pki/certs.js';
import { HeartbeatStream } from '../runtime/agent/heartbeat-stream.js';
import { heartbeatCall } from '../runtime/agent/master-connection.js';
import { agentInfo, CHANNELS, INTERVAL_MS, nodesOf, pacedBeats } from './paced-heartbeats.js';
import { CLI, startDaemon } from './bench-support.js';

const SHARED = 'tls-bench-shared-token-0123456789abcdef';

type Mode = 'plain' | 'tls';

interface HeartbeatResult {
  mode: Mode;
  round: number;
  heartbeats: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  cpuPercent: number;
  cpuMsPerHeartbeat: number;
  clientCpuPercent: number;
  loadAvg: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** The grid CA for the TLS runs, given to the master as the operator's CA. */
interface BenchCa {
  readonly ca: KeyAndCert;
  readonly certFile: string;
  readonly keyFile: string;
}

function makeCa(dir: string): BenchCa {
  const ca = createCa('tls bench CA');
  const certFile = join(dir, 'ca.pem');
  const keyFile = join(dir, 'ca-key.pem');
  writeFileSync(certFile, ca.certPem, { mode: 0o600 });
  writeFileSync(keyFile, ca.keyPem, { mode: 0o600 });
  return { ca, certFile, keyFile };
}

async function startMaster(dataDir: string, mode: Mode, ca: BenchCa, extra: string[] = []): Promise<{ proc: ChildProcess; address: string; log: string }> {
  // Logs to a file: a pipe the bench is too busy to drain would stall the master.
  const log = join(dataDir, 'master.log');
  const fd = openSync(log, 'w');
  const tls = mode === 'tls' ? ['--tls', 'on', '--tls-ca-cert', ca.certFile, '--tls-ca-key', ca.keyFile] : ['--tls', 'off'];
  const proc = spawn(
    process.execPath,
    [CLI, 'master', '--listen', '127.0.0.1:0', '--data-dir', join(dataDir, 'master'), '--heartbeat-interval', '5s', '--degraded-after', '15s', '--offline-after', '30s', ...tls, ...extra],
    // The shared token (TLS runs only) creates the join tokens; agents authenticate by certificate.
    { env: { ...process.env, LOG_LEVEL: 'info', ...(mode === 'tls' ? { SUTRA_GRID_TOKEN: SHARED } : {}) }, stdio: ['ignore', 'ignore', fd] },
  );
  closeSync(fd);
  for (let waited = 0; waited < 60_000; waited += 50) {
    const m = /master listening on ([^\s"]+)/.exec(readFileSync(log, 'utf8'));
    if (m) return { proc, address: m[1]!, log };
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`master did not start: ${readFileSync(log, 'utf8')}`);
}

async function stopProc(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

/** The bench's channels: plaintext, or mutual TLS each with its own client certificate. */
function benchChannels(address: string, mode: Mode, ca: BenchCa): GridMasterClient[] {
  const keyPem = mode === 'tls' ? newPrivateKey() : '';
  const csr = mode === 'tls' ? createCsr(keyPem, 'bench') : '';
  return Array.from({ length: CHANNELS }, (_, i) => {
    // A local subchannel pool per client gives each its own TCP (and TLS) connection.
    const options: ChannelOptions = { 'grpc.use_local_subchannel_pool': 1, 'grpc.enable_channelz': 0, 'grpc.bench_channel': i };
    let creds: ChannelCredentials = insecureCredentials;
    if (mode === 'tls') {
      const leaf = issueLeaf(ca.ca, csr, { role: 'agent', name: `bench-${i}` }, { ttlMs: 3_600_000 });
      creds = tlsChannelCredentials(new TlsSource({ caPem: ca.ca.certPem, certPem: leaf.certPem, keyPem }), { role: 'master' });
      Object.assign(options, TLS_CHANNEL_OPTIONS);
    }
    return new GridMasterClient(address, creds, options);
  });
}

async function heartbeats(mode: Mode, round: number, agents: number, measureMs: number, ca: BenchCa): Promise<HeartbeatResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tls-bench-'));
  const { proc, address } = await startMaster(dataDir, mode, ca);
  const ids = Array.from({ length: agents }, (_, i) => `agent-${String(i).padStart(5, '0')}`);
  const clients = benchChannels(address, mode, ca);
  const token = mode === 'tls' ? SHARED : undefined;
  const nodes = new Map(ids.map((id) => [id, nodesOf(id)]));
  const streams: HeartbeatStream[] = [];
  try {
    const beats = await pacedBeats({
      agents,
      measureMs,
      masterPid: proc.pid!,
      send: (i, registration) => {
        const agentId = ids[i]!;
        const c = clients[i % CHANNELS]!;
        if (registration) return unary(c.registerAgent, c, { agent: agentInfo(agentId), nodes: nodes.get(agentId)! }, token, 10_000);
        streams[i] ??= new HeartbeatStream(heartbeatCall(c, token));
        return streams[i].send({ agentId, nodes: nodes.get(agentId)! }, 10_000);
      },
    });
    if (beats.firstError !== undefined) process.stderr.write(`first error (${mode}): ${beats.firstError}\n`);
    return {
      mode,
      round,
      heartbeats: beats.heartbeats,
      errors: beats.errors,
      p50Ms: beats.p50Ms,
      p99Ms: beats.p99Ms,
      cpuPercent: beats.cpuPercent,
      cpuMsPerHeartbeat: beats.cpuMsPerHeartbeat,
      clientCpuPercent: beats.clientCpuPercent,
      loadAvg: beats.loadAvg,
    };
  } finally {
    for (const st of streams) st?.close();
    for (const c of clients) c.close();
    await stopProc(proc);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Polls ListAgents until `agentId` is there; the time it was seen. */
async function waitListed(client: GridMasterClient, token: string | undefined, agentId: string): Promise<number> {
  for (let waited = 0; waited < 60_000; waited += 20) {
    const r = await unary(client.listAgents, client, {}, token, 10_000);
    if (r.agents.some((a) => a.info?.agentId === agentId)) return performance.now();
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error(`agent ${agentId} was never listed`);
}

/** Milliseconds from `token create` (TLS) or the agent's spawn (plaintext) to the master listing the agent. */
async function joinOnce(mode: Mode, i: number, address: string, ca: BenchCa, client: GridMasterClient): Promise<number> {
  const agentId = `join-${mode}-${i}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'tls-bench-agent-'));
  const t0 = performance.now();
  let args = ['agent', '--id', agentId, '--master', address, '--listen', '127.0.0.1:0', '--data-dir', dataDir];
  if (mode === 'tls') {
    const t = await createJoinToken(address, { caPem: ca.ca.certPem }, 'agent', 600_000, SHARED);
    args = [...args, '--join', t.token, '--ca-hash', caHash(ca.ca.certPem)];
  }
  const agent = await startDaemon(args, /agent \S+ listening on ([^\s"]+)/);
  try {
    return (await waitListed(client, mode === 'tls' ? SHARED : undefined, agentId)) - t0;
  } finally {
    await stopProc(agent.proc);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function joins(count: number, ca: BenchCa): Promise<Record<Mode, number[]>> {
  const out: Record<Mode, number[]> = { plain: [], tls: [] };
  const masters = {} as Record<Mode, { proc: ChildProcess; address: string; dir: string; client: GridMasterClient }>;
  for (const mode of ['plain', 'tls'] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'tls-bench-join-'));
    const m = await startMaster(dir, mode, ca);
    const client =
      mode === 'tls'
        ? new GridMasterClient(m.address, tlsChannelCredentials(new TlsSource({ caPem: ca.ca.certPem }), { role: 'master' }), TLS_CHANNEL_OPTIONS)
        : new GridMasterClient(m.address, insecureCredentials);
    masters[mode] = { ...m, dir, client };
  }
  try {
    for (let i = 0; i < count; i++) {
      // Alternate which goes first, as the heartbeat rounds do.
      for (const mode of i % 2 === 0 ? (['plain', 'tls'] as const) : (['tls', 'plain'] as const)) {
        const ms = await joinOnce(mode, i, masters[mode].address, ca, masters[mode].client);
        out[mode].push(ms);
        process.stdout.write(`join ${mode} #${i}: ${ms.toFixed(0)} ms (load ${loadavg()[0]!.toFixed(1)})\n`);
      }
    }
  } finally {
    for (const m of Object.values(masters)) {
      m.client.close();
      await stopProc(m.proc);
      rmSync(m.dir, { recursive: true, force: true });
    }
  }
  return out;
}

function flag(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const rounds = Number(flag(args, '--rounds', '2'));
  const agents = Number(flag(args, '--agents', '1000'));
  const measureMs = Number(/^(\d+)s$/.exec(flag(args, '--measure', '20s'))?.[1] ?? 20) * 1000;
  const joinCount = Number(flag(args, '--joins', '5'));
  const caDir = mkdtempSync(join(tmpdir(), 'tls-bench-ca-'));
  const ca = makeCa(caDir);
  const results: HeartbeatResult[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      for (const mode of round % 2 === 0 ? (['plain', 'tls'] as const) : (['tls', 'plain'] as const)) {
        const r = await heartbeats(mode, round, agents, measureMs, ca);
        results.push(r);
        process.stdout.write(
          `round ${round} ${mode}: ${agents} agents, ${r.heartbeats} heartbeats (${r.errors} errors), p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms; ` +
            `master CPU ${r.cpuPercent.toFixed(1)}% of one core (${r.cpuMsPerHeartbeat.toFixed(3)} ms per heartbeat); bench client CPU ${r.clientCpuPercent.toFixed(1)}%; load average ${r.loadAvg.toFixed(1)} on ${cpus().length} cores\n`,
        );
      }
    }
    const joined = await joins(joinCount, ca);
    const summary = (mode: Mode) => {
      const rs = results.filter((r) => r.mode === mode);
      return { p99MsMedian: median(rs.map((r) => r.p99Ms)), cpuPercentMedian: median(rs.map((r) => r.cpuPercent)), cpuMsPerHeartbeatMedian: median(rs.map((r) => r.cpuMsPerHeartbeat)), joinMsMedian: median(joined[mode]) };
    };
    const s = { plain: summary('plain'), tls: summary('tls') };
    process.stdout.write(
      `medians: heartbeat p99 ${s.plain.p99MsMedian.toFixed(2)} ms plaintext vs ${s.tls.p99MsMedian.toFixed(2)} ms TLS; master CPU ${s.plain.cpuPercentMedian.toFixed(1)}% vs ${s.tls.cpuPercentMedian.toFixed(1)}%; ` +
        `join ${s.plain.joinMsMedian.toFixed(0)} ms (plaintext agent start → listed) vs ${s.tls.joinMsMedian.toFixed(0)} ms (token create → TLS agent listed)\n`,
    );
    process.stdout.write(`${JSON.stringify({ benchmark: 'tls-cost', agents, intervalMs: INTERVAL_MS, measureMs, rounds, results, joins: joined, summary: s })}\n`);
  } finally {
    rmSync(caDir, { recursive: true, force: true });
  }
}

await main();
