/**
 * Several masters on a real etcd cluster, with real agents and storage nodes: a
 * {@link DeclarativeGrid} whose master address is the list of masters (the CLI and the agents find
 * the leader themselves), and helpers to find, kill and freeze the leader.
 */
import { MasterClient } from '../../../client/index.js';
import { EtcdCluster } from '../../helpers/etcd-cluster.js';
import { eventually, startMaster, tempDir, type DaemonProcess } from '../../helpers/processes.js';
import { DeclarativeGrid, FAST_MASTER_ARGS } from '../../declarative/support/declarative-grid.js';

/** Lease TTL of the test masters, in seconds. */
export const LEASE_TTL_S = 2;

/** A master of the grid: its process and its own (single-address) client. */
export interface GridMaster {
  readonly process: DaemonProcess;
  readonly address: string;
  readonly client: MasterClient;
}

export class EtcdGrid {
  readonly grid = new DeclarativeGrid();
  readonly masters: GridMaster[] = [];
  etcd!: EtcdCluster;

  static async start(masters: number): Promise<EtcdGrid> {
    const g = new EtcdGrid();
    g.etcd = await EtcdCluster.start(3);
    for (let i = 0; i < masters; i++) await g.startMaster();
    // Agents and the CLI are given every master.
    g.grid.master = { ...g.masters[0]!.process, address: g.masters.map((m) => m.address).join(',') };
    return g;
  }

  /**
   * Starts one more master on the cluster. `--settle 10s`: a new leader waits that long for agents
   * to re-register before it replaces anything (an agent notices a frozen master after its 5 s
   * call timeout).
   */
  async startMaster(): Promise<GridMaster> {
    const process = await startMaster({
      dataDir: tempDir(`${this.grid.marker}master-`),
      args: [...FAST_MASTER_ARGS, '--settle', '10s', '--store', this.etcd.storeUrl, '--lease-ttl', String(LEASE_TTL_S)],
    });
    this.grid.adopt(process);
    const m = { process, address: process.address, client: new MasterClient({ address: process.address, callTimeoutMs: 5000 }) };
    this.masters.push(m);
    return m;
  }

  /** A client given every master, as users and agents are. */
  client(): MasterClient {
    return new MasterClient({ address: this.masters.map((m) => m.address).join(','), callTimeoutMs: 20_000 });
  }

  /** The master that logged it leads last among those alive and not `except`; waits for one. */
  async leader(except: readonly GridMaster[] = [], timeoutMs = 20_000): Promise<GridMaster> {
    return eventually(async () => {
      for (const m of this.masters) {
        if (except.includes(m)) continue;
        try {
          // (a follower answers status too, with the leader's: the leader is the one it names)
          const s = await m.client.getClusterStatus();
          if (s.masters?.some((x) => x.leading && x.address === m.address) === true) return m;
        } catch {
          // not the leader (or gone)
        }
      }
      return undefined;
    }, timeoutMs, 100);
  }

  /**
   * Since when (ms since the epoch) master `m` leads, as its "this master leads" log line says (the
   * `sinceMs` it reports in status), the last time; undefined if never.
   */
  ledAt(m: GridMaster): number | undefined {
    let at: number | undefined;
    for (const line of m.process.logs().split('\n')) {
      if (!line.includes('this master leads')) continue;
      try {
        at = (JSON.parse(line) as { sinceMs: number }).sinceMs;
      } catch {
        // not a JSON log line
      }
    }
    return at;
  }

  logs(): string {
    return this.masters.map((m, i) => `--- master ${i} (${m.address}) ---\n${m.process.logs().slice(-6000)}`).join('\n');
  }

  async teardown(): Promise<string[]> {
    for (const m of this.masters) m.client.close();
    // Agents first (they stop their nodes), then masters and etcd.
    const leaked = await this.grid.teardown();
    await this.etcd?.stop();
    return leaked;
  }
}
