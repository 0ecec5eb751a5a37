/**
 * A grid across test hosts (network namespaces): a master with mutual TLS on host `m`, agents that
 * join with join tokens on their own hosts, and clients (in the test's own process, on the bridge)
 * with credentials of any role.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TLS_CHANNEL_OPTIONS, TlsSource, tlsChannelCredentials, type GridRole, type TlsMaterial } from '../../client/transport.js';
import { issueKeyAndCert, type KeyAndCert } from '../../runtime/common/pki/certs.js';
import { TestMasterClient } from '../helpers/grid-client.js';
import { cleanup, runCli, startDaemon, tempDir, type DaemonProcess } from '../helpers/processes.js';
import { storagePortConfig } from '../helpers/ports.js';
import { TestHosts } from './netns.js';

export const MASTER_PORT = 7000;
export const AGENT_PORT = 7100;

/** Fast health thresholds (as the declarative tests use). */
export const FAST = ['--heartbeat-interval', '200ms', '--degraded-after', '800ms', '--offline-after', '1600ms'];

/** A TLS grid on test hosts. */
export class TlsGrid {
  readonly masterDir = tempDir('sgt-master-');
  readonly adminDir = tempDir('sgt-admin-');
  master!: DaemonProcess;
  caHash = '';
  readonly agents = new Map<string, { proc: DaemonProcess; dataDir: string }>();
  private readonly clients: TestMasterClient[] = [];

  constructor(readonly hosts: TestHosts) {}

  get masterAddress(): string {
    return `${this.hosts.address('m')}:${MASTER_PORT}`;
  }

  /** Bootstraps the admin credential (offline, from the CA in the data dir), then starts the master. */
  async start(masterArgs: readonly string[] = []): Promise<void> {
    const issued = await runCli(['cert', 'issue', '--data-dir', this.masterDir, '--role', 'admin', '--name', 'ops', '--out', this.adminDir]);
    if (issued.code !== 0) throw new Error(`cert issue failed: ${issued.stderr}`);
    this.master = await startDaemon('master', ['master', '--listen', this.masterAddress, '--data-dir', this.masterDir, ...FAST, ...masterArgs], {
      wrap: this.hosts.exec('m'),
    });
  }

  /** The grid CA (key and certificate) from the master's data dir. */
  ca(): KeyAndCert {
    return { certPem: readFileSync(join(this.masterDir, 'pki', 'ca.pem'), 'utf8'), keyPem: readFileSync(join(this.masterDir, 'pki', 'ca-key.pem'), 'utf8') };
  }

  /** A join token for `role`, created with the admin credential by the CLI on host m. */
  async token(role: string, ttl = '10m'): Promise<string> {
    const r = await runCli(['token', 'create', '--role', role, '--ttl', ttl, '--master', this.masterAddress, '--tls-dir', this.adminDir], { wrap: this.hosts.exec('m') });
    if (r.code !== 0) throw new Error(`token create failed (${r.code}): ${r.stderr}`);
    this.caHash = /--ca-hash (sha256:[0-9a-f]{64})/.exec(r.stderr)?.[1] ?? '';
    return r.stdout.trim();
  }

  /** Starts agent `id` on host `host`, joining with a fresh agent token. */
  async agent(id: string, host: string, extra: readonly string[] = []): Promise<DaemonProcess> {
    const token = await this.token('agent');
    const dataDir = tempDir(`sgt-agent-${id}-`);
    const ports = storagePortConfig();
    const config = join(tempDir('sgt-agent-config-'), 'agent-config.toml');
    writeFileSync(config, `[storage]\ndefault_port_range_start = ${ports.default_port_range_start}\nport_range_size = ${ports.port_range_size}\n`);
    const proc = await startDaemon(
      `agent ${id}`,
      ['agent', '--config', config, '--id', id, '--master', this.masterAddress, '--listen', `${this.hosts.address(host)}:${AGENT_PORT}`, '--data-dir', dataDir,
        '--heartbeat-interval', '200ms', '--join', token, '--ca-hash', this.caHash, ...extra],
      { wrap: this.hosts.exec(host) },
    );
    this.agents.set(id, { proc, dataDir });
    return proc;
  }

  /** The credential agent `id` keeps in its data dir. */
  agentCredential(id: string): TlsMaterial {
    const dir = join(this.agents.get(id)!.dataDir, '.agent', 'tls');
    return { caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'), certPem: readFileSync(join(dir, 'cert.pem'), 'utf8'), keyPem: readFileSync(join(dir, 'key.pem'), 'utf8') };
  }

  /** A credential of `role` issued here from the grid CA (`ttlMs` < 0: already expired). */
  credential(role: GridRole, name: string, ttlMs = 3_600_000): TlsMaterial & { serial: string } {
    const ca = this.ca();
    const leaf = issueKeyAndCert(ca, { role, name }, { ttlMs });
    return { caPem: ca.certPem, certPem: leaf.certPem, keyPem: leaf.keyPem, serial: leaf.serial };
  }

  /** A raw master client over TLS with `m` (or plaintext when `m` is undefined). */
  client(m: TlsMaterial | undefined, token?: string): TestMasterClient {
    const c =
      m === undefined
        ? new TestMasterClient(this.masterAddress, token)
        : new TestMasterClient(this.masterAddress, token, tlsChannelCredentials(new TlsSource(m), { role: 'master' }), TLS_CHANNEL_OPTIONS);
    this.clients.push(c);
    return c;
  }

  /** The admin credential written by `cert issue`. */
  admin(): TlsMaterial {
    const f = (n: string): string => readFileSync(join(this.adminDir, n), 'utf8');
    return { caPem: f('ca.pem'), certPem: f('cert.pem'), keyPem: f('key.pem') };
  }

  /** Stops agents then the master (nodes with their agents), closes clients. */
  async stop(): Promise<void> {
    for (const c of this.clients) c.raw.close();
    await Promise.all([...this.agents.values()].map((a) => a.proc.stop('SIGTERM', 15_000)));
    await this.master?.stop('SIGTERM', 15_000);
  }
}

/**
 * What every cross-host test undoes after each case: links healed (a cut link would keep a
 * process from stopping), the grid stopped, every process the test started killed, and every
 * namespace removed, also those of a TestHosts the test lost track of.
 */
export async function tearDownHosts(hosts: TestHosts | undefined, grid: TlsGrid | undefined): Promise<void> {
  hosts?.healAll();
  await grid?.stop();
  await cleanup();
  hosts?.teardown();
  TestHosts.teardownAll();
}
