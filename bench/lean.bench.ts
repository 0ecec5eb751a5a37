/**
 * Lean-process benchmark (issue 17): one interleaved run measuring start-up, restart, CLI and idle
 * memory of the grid's processes beside Node's own floor and beside pm2 and supervisord managing the
 * same storage-server. Every case runs once per round, in a rotating order, so all see the same load;
 * figures are medians and every target is a ratio to a baseline of the same run.
 *
 * Run: `node dist/bench/lean.bench.js [rounds=20]` after `npm run build`; `npm run bench:lean` runs it
 * with the rest of issue 17's table (lean-report.bench.ts).
 * Peers: pm2 from $PM2_BIN (e.g. after `npm install --prefix /tmp/pm2 pm2`:
 * /tmp/pm2/node_modules/.bin/pm2), supervisord from PATH (Debian's `supervisor`); a missing peer is
 * reported and skipped. $LEAN_BEFORE=/path/of/another/built/checkout measures that build's
 * storage-server (the bundle its agents spawn), `status` and agent (idle RSS, spawn and kill -9
 * under it) in the same rounds (before/after on the same machine).
 * `LEAN_ONLY=rss` measures only the idle RSS rows (no timed rounds: `rounds` is then unused).
 * Idle RSS is read twice for each process: 3 s after it serves, and 15 s after (settled: see
 * SETTLED_MS); the peers' daemons, running since the bench began, once.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { GridAgentClient, SpawnNodeRequest, type NodeInfo } from '../proto/gen/sutra/grid/v1/agent.pb.js';
import { unary } from '../client/index.js';
import { HealthProbe } from '../runtime/agent/health-probe.js';
import { storageServerEntry } from '../runtime/storage/entry.js';
import { CLI, agentConfig, freePort, rssMb, spawnIdleNodes, startDaemon, stopDaemons } from './bench-support.js';

const ROUNDS = Number(process.argv[2] ?? 20);
const BEFORE = process.env['LEAN_BEFORE'];
const PM2 = process.env['PM2_BIN'] ?? '';
/** Only the idle RSS rows: the timed rounds are skipped. */
const ONLY_RSS = process.env['LEAN_ONLY'] === 'rss';
const SUPERVISORD = spawnSync('sh', ['-c', 'command -v supervisord'], { encoding: 'utf8' }).stdout.trim();
const STORAGE = storageServerEntry();

type Unary<Req, Res> = Parameters<typeof unary<Req, Res>>[0];
const samples = new Map<string, number[]>();
const record = (name: string, ms: number): void => void (samples.get(name) ?? samples.set(name, []).get(name)!).push(ms);
const median = (name: string): number => {
  const s = [...(samples.get(name) ?? [])].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** When an idle process's RSS is read: soon after its start, and once V8 has settled its heap. */
const STARTUP_MS = 3000;
/**
 * V8's memory reducer runs its first memory-reducing collection 8 s after a process's first full
 * collection (--gc-memory-reducer-start-delay-ms), which start-up runs: until then a process still
 * holds its start-up garbage (~2.4 MB of an agent's). 15 s is past it for every process measured.
 */
const SETTLED_MS = 15_000;

interface IdleRss {
  /** MB, {@link STARTUP_MS} after the process became idle. */
  readonly startup: number;
  /** MB, {@link SETTLED_MS} after. */
  readonly settled: number;
}

/** The RSS of `pid`, idle from now on, at both times. */
async function idleRss(pid: number): Promise<IdleRss> {
  await sleep(STARTUP_MS);
  const startup = rssMb(pid);
  await sleep(SETTLED_MS - STARTUP_MS);
  return { startup, settled: rssMb(pid) };
}

/** The middle of three values. */
const middle = (v: number[]): number => [...v].sort((a, b) => a - b)[1]!;

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
}

async function untilAccepting(port: number): Promise<void> {
  const end = Date.now() + 30_000;
  while (!(await accepts(port))) {
    if (Date.now() > end) throw new Error(`port ${port} never accepted`);
    await sleep(1);
  }
}

/**
 * How finely the bench itself looks for SERVING (ms): as finely as it looks for a port accepting
 * (untilAccepting), so that neither the floor nor any process is measured with a coarser clock.
 * What the grid's agent does (its own startup probe, PROBE_INTERVAL_MS) is part of what is measured
 * in the grid cases, and is not changed by this.
 */
const OBSERVE_MS = 1;

/** The bench's own health probe: checks and reconnects every {@link OBSERVE_MS}. */
function observer(port: number): HealthProbe {
  const backoff = { 'grpc.initial_reconnect_backoff_ms': OBSERVE_MS, 'grpc.min_reconnect_backoff_ms': OBSERVE_MS, 'grpc.max_reconnect_backoff_ms': OBSERVE_MS };
  return new HealthProbe(`127.0.0.1:${port}`, { credentials: credentials.createInsecure(), options: { ...HealthProbe.channelOptions(), ...backoff } });
}

async function untilServing(port: number): Promise<void> {
  const probe = observer(port);
  try {
    if (!(await probe.waitServing(OBSERVE_MS, 30_000, new AbortController().signal))) throw new Error(`port ${port} never SERVING`);
  } finally {
    probe.close();
  }
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** Time from spawn until `ready` resolves; the process is killed afterwards. */
async function timeStart(args: string[], ready: (port: number) => Promise<void>, port: number): Promise<number> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: 'ignore' });
  try {
    await ready(port);
    return performance.now() - t0;
  } finally {
    await killAndWait(child);
  }
}

function timeRun(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr?.toString() ?? ''}`);
  return ms;
}


/** kill -9 of `pid`, then the time until the port answers SERVING again (after it first failed). */
async function crashToServing(pid: number, port: number): Promise<number> {
  const probe = observer(port);
  try {
    const t0 = performance.now();
    process.kill(pid, 'SIGKILL');
    // The old process may answer until the kernel has taken it down: wait for one failed check first.
    while (await probe.check(200)) await sleep(1);
    if (!(await probe.waitServing(OBSERVE_MS, 30_000, new AbortController().signal))) throw new Error(`port ${port} never SERVING again`);
    return performance.now() - t0;
  } finally {
    probe.close();
  }
}

interface Peer {
  readonly name: string;
  /** The daemon's pid (for its RSS). */
  readonly daemonPid: number;
  /** Pid and port of the first managed storage-server. */
  appPid(): Promise<number>;
  readonly appPort: number;
  stop(): Promise<void>;
}

async function startPm2(dir: string): Promise<Peer | undefined> {
  if (PM2 === '' || !existsSync(PM2)) return undefined;
  const env = { ...process.env, PM2_HOME: join(dir, 'pm2-home') };
  const pm2 = (...args: string[]): string => {
    const r = spawnSync(PM2, args, { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`pm2 ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const ports: number[] = [];
  for (let i = 0; i < 4; i++) {
    const port = await freePort();
    ports.push(port);
    pm2('start', STORAGE, '--name', `s${i}`, '--', '--port', String(port), '--storage-path', join(dir, `pm2-${i}`));
  }
  for (const p of ports) await untilServing(p);
  const daemonPid = Number(readFileSync(join(dir, 'pm2-home', 'pm2.pid'), 'utf8'));
  return {
    name: `pm2 ${pm2('--version').trim()}`,
    daemonPid,
    appPort: ports[0]!,
    appPid: () => {
      const list = JSON.parse(pm2('jlist')) as Array<{ name: string; pid: number }>;
      return Promise.resolve(list.find((a) => a.name === 's0')!.pid);
    },
    stop: () => Promise.resolve(void pm2('kill')),
  };
}

async function startSupervisord(dir: string): Promise<Peer | undefined> {
  if (SUPERVISORD === '') return undefined;
  const conf = join(dir, 'supervisord.conf');
  const sock = join(dir, 'supervisor.sock');
  const ports: number[] = [];
  const programs: string[] = [];
  for (let i = 0; i < 4; i++) {
    const port = await freePort();
    ports.push(port);
    programs.push(`[program:s${i}]`, `command=${process.execPath} ${STORAGE} --port ${port} --storage-path ${join(dir, `sv-${i}`)}`, 'autorestart=true', 'startsecs=0', '');
  }
  writeFileSync(
    conf,
    [
      '[supervisord]', 'nodaemon=true', `logfile=${join(dir, 'supervisord.log')}`, `pidfile=${join(dir, 'supervisord.pid')}`, `childlogdir=${dir}`, '',
      '[unix_http_server]', `file=${sock}`, '',
      '[rpcinterface:supervisor]', 'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface', '',
      '[supervisorctl]', `serverurl=unix://${sock}`, '',
      ...programs,
    ].join('\n'),
  );
  const daemon = spawn(SUPERVISORD, ['-c', conf], { stdio: 'ignore' });
  for (const p of ports) await untilServing(p);
  const version = spawnSync(SUPERVISORD, ['--version'], { encoding: 'utf8' }).stdout.trim();
  return {
    name: `supervisord ${version}`,
    daemonPid: daemon.pid!,
    appPort: ports[0]!,
    appPid: () => Promise.resolve(Number(spawnSync('supervisorctl', ['-c', conf, 'pid', 's0'], { encoding: 'utf8' }).stdout.trim())),
    stop: async () => {
      const exited = new Promise((r) => daemon.once('exit', r));
      daemon.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * The grid's cases against the agent at `address` (names prefixed with `prefix`): a spawn timed
 * until the agent answers running, and a kill -9 of its node timed until the port answers SERVING
 * again. Spawns the crash case's node.
 */
async function gridCases(address: string, prefix: string): Promise<{ client: InstanceType<typeof GridAgentClient>; cases: Array<[string, () => Promise<void>]> }> {
  const client = new GridAgentClient(address, credentials.createInsecure());
  const call = <Req, Res>(m: unknown, req: Req): Promise<Res> => unary(m as Unary<Req, Res>, client, req, undefined, 60_000);
  const spawnNode = async (nodeId: string): Promise<NodeInfo> =>
    (await call<object, { node?: NodeInfo }>(client.spawnNode, SpawnNodeRequest.fromPartial({ nodeId }))).node!;
  const crashNode = await spawnNode('crash');
  const crash = { pid: crashNode.pid, port: crashNode.port };
  let n = 0;
  const spawnName = `${prefix}grid spawn -> running`;
  const crashName = `${prefix}kill -9 -> SERVING again: grid agent`;
  return {
    client,
    cases: [
      [spawnName, async () => {
        const id = `sp${n++}`;
        const t0 = performance.now();
        const node = await spawnNode(id);
        record(spawnName, performance.now() - t0);
        if (node.status !== 'running') throw new Error(`spawn returned ${node.status}`);
        await call(client.stopNode, { nodeId: id, graceMs: 5000 });
      }],
      [crashName, async () => {
        record(crashName, await crashToServing(crash.pid, crash.port));
        for (;;) {
          const s = (await call<object, { node?: NodeInfo }>(client.getNodeStatus, { nodeId: 'crash' })).node!;
          if (s.status === 'running' && s.pid !== crash.pid) {
            crash.pid = s.pid;
            break;
          }
          await sleep(5);
        }
      }],
    ],
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lean-bench-'));
  const loads: number[] = [loadavg()[0]!];
  const daemons: ChildProcess[] = [];
  const peers: Peer[] = [];
  try {
    const master = await startDaemon(['master', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'master')], /master listening on ([^\s"]+)/);
    daemons.push(master.proc);
    const agent = await startDaemon(['agent', '--config', agentConfig(dir, 'bench', master.address)], /agent bench listening on (\S+)/);
    daemons.push(agent.proc);
    const grid = await gridCases(agent.address, '');
    const clients = [grid.client];

    for (const start of [startPm2, startSupervisord]) {
      const peer = await start(dir);
      if (peer) peers.push(peer);
    }

    const storageArgs = (entry: string, port: number, tag: string): string[] => [entry, '--port', String(port), '--storage-path', join(dir, tag), '--memory', '64'];
    let n = 0;
    const cases: Array<[string, () => Promise<void>]> = [
      ['node -e 0', () => Promise.resolve(record('node -e 0', timeRun(process.execPath, ['-e', '0'])))],
      ['floor: node TCP server start -> accepting', async () => {
        const port = await freePort();
        record('floor: node TCP server start -> accepting', await timeStart(['-e', `require('net').createServer().listen(${port}, '127.0.0.1')`], untilAccepting, port));
      }],
      ['storage-server start -> accepting', async () => {
        const port = await freePort();
        record('storage-server start -> accepting', await timeStart(storageArgs(STORAGE, port, `a${n++}`), untilAccepting, port));
      }],
      ['storage-server start -> SERVING', async () => {
        const port = await freePort();
        record('storage-server start -> SERVING', await timeStart(storageArgs(STORAGE, port, `s${n++}`), untilServing, port));
      }],
      ...grid.cases,
      ['sutra-grid status', () => Promise.resolve(record('sutra-grid status', timeRun(process.execPath, [CLI, '--master', master.address, 'status'])))],
    ];
    for (const peer of peers) {
      cases.push([`kill -9 -> SERVING again: ${peer.name}`, async () => record(`kill -9 -> SERVING again: ${peer.name}`, await crashToServing(await peer.appPid(), peer.appPort))]);
      if (peer.name.startsWith('pm2')) cases.push([`${peer.name} jlist`, () => Promise.resolve(record(`${peer.name} jlist`, timeRun(PM2, ['jlist'])))]);
    }
    if (BEFORE !== undefined) {
      // The script the before build's agents spawn: its bundle when it has one (as storageServerEntry() picks).
      const oldBundle = join(BEFORE, 'dist', 'runtime', 'bundle', 'storage-server.cjs');
      const oldStorage = existsSync(oldBundle) ? oldBundle : join(BEFORE, 'dist', 'runtime', 'storage', 'main.js');
      const oldCli = join(BEFORE, 'bin', 'sutra-grid.js');
      cases.push(
        ['before: storage-server start -> accepting', async () => {
          const port = await freePort();
          record('before: storage-server start -> accepting', await timeStart(storageArgs(oldStorage, port, `ba${n++}`), untilAccepting, port));
        }],
        ['before: storage-server start -> SERVING', async () => {
          const port = await freePort();
          record('before: storage-server start -> SERVING', await timeStart(storageArgs(oldStorage, port, `bs${n++}`), untilServing, port));
        }],
        ['before: sutra-grid status', () => Promise.resolve(record('before: sutra-grid status', timeRun(process.execPath, [oldCli, '--master', master.address, 'status'])))],
      );
      const oldAgent = await startDaemon(['agent', '--config', agentConfig(dir, 'before', master.address)], /agent before listening on (\S+)/, oldCli);
      daemons.push(oldAgent.proc);
      const oldGrid = await gridCases(oldAgent.address, 'before: ');
      clients.push(oldGrid.client);
      cases.push(...oldGrid.cases);
    }
    // pm2 jlist needs its home: every peer command runs with it.
    if (PM2 !== '') process.env['PM2_HOME'] = join(dir, 'pm2-home');

    // Warm-up round (page cache, the agent's JIT), not recorded.
    if (!ONLY_RSS) for (const [, run] of cases) await run();
    samples.clear();
    for (let r = 0; r < (ONLY_RSS ? 0 : ROUNDS); r++) {
      for (let i = 0; i < cases.length; i++) await cases[(i + r) % cases.length]![1]();
      if (r % 5 === 4) loads.push(loadavg()[0]!);
    }

    // Idle RSS: fresh processes, 3 s after they serve (start-up) and again SETTLED_MS after (settled).
    const rss = new Map<string, IdleRss>();
    const bareRss = await Promise.all([0, 1, 2].map(async () => {
      const port = await freePort();
      const bare = spawn(process.execPath, ['-e', `require('net').createServer().listen(${port}, '127.0.0.1')`], { stdio: 'ignore' });
      await untilAccepting(port);
      const r = await idleRss(bare.pid!);
      await killAndWait(bare);
      return r;
    }));
    rss.set('bare node TCP server', { startup: middle(bareRss.map((r) => r.startup)), settled: middle(bareRss.map((r) => r.settled)) });
    const port = await freePort();
    const storage = spawn(process.execPath, storageArgs(STORAGE, port, 'rss'), { stdio: 'ignore' });
    await untilServing(port);
    rss.set('storage-server (idle)', await idleRss(storage.pid!));
    await killAndWait(storage);
    const agents: Array<[string, string | undefined]> = [['', undefined]];
    if (BEFORE !== undefined) agents.push(['before: ', join(BEFORE, 'bin', 'sutra-grid.js')]);
    for (const [prefix, cli] of agents) {
      const name = prefix === '' ? 'idle' : 'old';
      const idle = await startDaemon(['agent', '--config', agentConfig(dir, name, master.address)], new RegExp(`agent ${name} listening on (\\S+)`), cli);
      daemons.push(idle.proc);
      rss.set(`${prefix}agent, 0 nodes`, await idleRss(idle.proc.pid!));
      await spawnIdleNodes(idle.address, 4);
      rss.set(`${prefix}agent, 4 nodes`, await idleRss(idle.proc.pid!));
    }
    // Running since the start of the bench: settled long ago.
    for (const peer of peers) {
      const mb = rssMb(peer.daemonPid);
      rss.set(`${peer.name} daemon, 4 apps`, { startup: mb, settled: mb });
    }
    for (const c of clients) c.close();

    const floor = median('floor: node TCP server start -> accepting');
    const e0 = median('node -e 0');
    const bare = rss.get('bare node TCP server')!;
    console.log(`\nlean processes: ${ONLY_RSS ? 'idle RSS only' : `${ROUNDS} rounds`}, load average (1 min) during the run: ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}\n`);
    if (!ONLY_RSS) {
      console.log('| measure | n | median ms | vs floor (node TCP server start) | vs `node -e 0` |');
      console.log('| --- | --- | --- | --- | --- |');
      for (const name of samples.keys()) {
        const m = median(name);
        console.log(`| ${name} | ${samples.get(name)!.length} | ${m.toFixed(1)} | ${(m / floor).toFixed(2)}x | ${(m / e0).toFixed(2)}x |`);
      }
    }
    console.log(`\n| idle RSS | ${STARTUP_MS / 1000} s after start, MB | vs bare node TCP server | settled (${SETTLED_MS / 1000} s), MB | vs bare node TCP server |`);
    console.log('| --- | --- | --- | --- | --- |');
    for (const [name, r] of rss) console.log(`| ${name} | ${r.startup.toFixed(1)} | ${(r.startup / bare.startup).toFixed(2)}x | ${r.settled.toFixed(1)} | ${(r.settled / bare.settled).toFixed(2)}x |`);
    console.log(JSON.stringify({ rounds: ROUNDS, load: loads, medians: Object.fromEntries([...samples.keys()].map((k) => [k, median(k)])), rssMb: Object.fromEntries(rss) }));
  } finally {
    for (const peer of peers) await peer.stop().catch(() => undefined);
    await stopDaemons(daemons);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
