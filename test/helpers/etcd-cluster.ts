/**
 * A real three-member etcd cluster on loopback ports, one `etcd` process per member, each with its
 * own data dir under a temp dir of the test. Members can be killed (SIGKILL), stopped (SIGSTOP)
 * and started again on the same data dir and ports, so quorum loss and recovery are real.
 *
 * Use: `afterEach(cleanup)` from processes.ts (the temp dirs) and `await cluster.stop()`.
 * Fails loudly when Debian's etcd (`/usr/bin/etcd`, package etcd-server) is not installed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { portBlock } from './ports.js';
import { tempDir, trackPid } from './processes.js';

/** Where Debian installs etcd; `ETCD_BIN` overrides it. */
export const ETCD_BIN = process.env['ETCD_BIN'] ?? '/usr/bin/etcd';

interface Member {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  proc: ChildProcess | undefined;
  output: string;
}

/** A running etcd cluster started by a test. */
export class EtcdCluster {
  private readonly members: Member[];
  private readonly token = `sutra-test-${process.pid}-${Date.now()}`;

  private constructor(size: number) {
    if (!existsSync(ETCD_BIN)) {
      throw new Error(`etcd is not installed at ${ETCD_BIN}: install Debian's etcd-server (apt-get install etcd-server) or set ETCD_BIN`);
    }
    const block = portBlock(size * 2);
    const root = tempDir('etcd-');
    this.members = Array.from({ length: size }, (_, i) => ({
      name: `m${i}`,
      clientPort: block.start + 2 * i,
      peerPort: block.start + 2 * i + 1,
      dataDir: join(root, `m${i}`),
      proc: undefined,
      output: '',
    }));
  }

  /** Starts `size` members (default 3) and waits until the cluster answers a write. */
  static async start(size = 3): Promise<EtcdCluster> {
    const cluster = new EtcdCluster(size);
    for (let i = 0; i < size; i++) cluster.startMember(i, 'new');
    try {
      await cluster.waitHealthy(60_000);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** The client endpoints, `127.0.0.1:PORT` each. */
  get endpoints(): string[] {
    return this.members.map((m) => `127.0.0.1:${m.clientPort}`);
  }

  /** The `--store` value a master takes: `etcd://HOST:PORT,HOST:PORT,...`. */
  get storeUrl(): string {
    return `etcd://${this.endpoints.join(',')}`;
  }

  /** Everything member `i` printed (for failure messages). */
  logs(i: number): string {
    return this.members[i]?.output ?? '';
  }

  /** Starts member `i` again on its data dir (after {@link kill}). */
  restart(i: number): void {
    this.startMember(i, 'existing');
  }

  /** SIGKILLs member `i` and waits for it to exit. */
  async kill(i: number): Promise<void> {
    const m = this.member(i);
    const proc = m.proc;
    m.proc = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await exited;
  }

  /** Stops every member (SIGKILL: the data dirs are thrown away with the temp dir). */
  async stop(): Promise<void> {
    await Promise.all(this.members.map((_, i) => this.kill(i)));
  }

  /** Resolves once a put through every endpoint given succeeds (a quorum answers). */
  async waitHealthy(timeoutMs: number): Promise<void> {
    const client = new Etcd3({ hosts: this.endpoints.map((e) => `http://${e}`), dialTimeout: 2000, defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + 3000 }) });
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    try {
      while (Date.now() < deadline) {
        try {
          await client.put('sutra-test/health').value(String(Date.now())).exec();
          return;
        } catch (err) {
          last = err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    } finally {
      client.close();
    }
    const outputs = this.members.map((m) => `--- ${m.name} ---\n${m.output.slice(-3000)}`).join('\n');
    throw new Error(`etcd cluster not healthy within ${timeoutMs} ms (last: ${(last as Error | undefined)?.message}); output:\n${outputs}`);
  }

  private member(i: number): Member {
    const m = this.members[i];
    if (m === undefined) throw new Error(`no etcd member ${i}`);
    return m;
  }

  private startMember(i: number, state: 'new' | 'existing'): void {
    const m = this.member(i);
    if (m.proc !== undefined) throw new Error(`etcd member ${m.name} is already running`);
    const initialCluster = this.members.map((o) => `${o.name}=http://127.0.0.1:${o.peerPort}`).join(',');
    const args = [
      '--name', m.name,
      '--data-dir', m.dataDir,
      '--listen-client-urls', `http://127.0.0.1:${m.clientPort}`,
      '--advertise-client-urls', `http://127.0.0.1:${m.clientPort}`,
      '--listen-peer-urls', `http://127.0.0.1:${m.peerPort}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peerPort}`,
      '--initial-cluster', initialCluster,
      '--initial-cluster-token', this.token,
      '--initial-cluster-state', state,
      // Loopback and a loaded CI box: short heartbeats, an election timeout that tolerates stalls.
      '--heartbeat-interval', '100',
      '--election-timeout', '1000',
      '--log-level', 'warn',
      '--logger', 'zap',
    ];
    const proc = spawn(ETCD_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ETCD_UNSUPPORTED_ARCH: process.env['ETCD_UNSUPPORTED_ARCH'] ?? '' } });
    const keep = (chunk: Buffer): void => {
      m.output = (m.output + chunk.toString('utf8')).slice(-20_000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    proc.once('error', (err) => keep(Buffer.from(`spawn failed: ${err.message}\n`)));
    if (proc.pid !== undefined) trackPid(proc.pid);
    m.proc = proc;
  }
}
