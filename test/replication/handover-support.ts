/**
 * Helpers of the planned handover tests (promote, restart): a writer that follows the leader as a
 * refusal names it, and a 3-node leader-replicas cluster over three agents, settled.
 */
import type { NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { eventually } from '../helpers/processes.js';
import { TestStorageClient } from '../helpers/storage-client.js';
import { DeclarativeGrid, gridSpec, type SpecCluster } from '../declarative/support/declarative-grid.js';
import { addressOf, roles } from './support.js';

/** A refusal's "writes go to the leader at HOST:PORT". */
const LEADER_AT = /writes go to the leader at (\S+?:\d+)/;

/**
 * Writes `${prefix}<i>` one after another until {@link stop}, to whichever node a refusal names as
 * the leader; remembers every acknowledged id (and the address that acknowledged it).
 */
export class LeaderFollowingWriter {
  readonly acked: string[] = [];
  /** Addresses that acknowledged writes, in the order they started to. */
  readonly writers: string[] = [];
  refusals = 0;
  private stopped = false;
  private client: TestStorageClient;
  private readonly done: Promise<void>;

  constructor(private address: string, prefix: string) {
    this.client = new TestStorageClient(address);
    this.done = this.run(prefix);
  }

  private async run(prefix: string): Promise<void> {
    for (let i = 0; !this.stopped; i++) {
      const id = `${prefix}${i}`;
      try {
        await this.client.learnConcept(id, `value of ${id}`);
        this.acked.push(id);
        if (this.writers[this.writers.length - 1] !== this.address) this.writers.push(this.address);
      } catch (err) {
        // Not acknowledged, so nothing is owed; a refusal naming the leader moves the writer there.
        this.refusals++;
        const to = LEADER_AT.exec((err as { details?: string }).details ?? '')?.[1];
        if (to !== undefined && to !== this.address) this.moveTo(to);
        else await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  private moveTo(address: string): void {
    this.client.close();
    this.address = address;
    this.client = new TestStorageClient(address);
  }

  /** Stops after the write in flight; resolves once it has answered. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
    this.client.close();
  }
}

/** A 3-node leader-replicas cluster `kg` of `durability` over agents a1-a3 (plus `extra` clusters), its leader leading and both replicas following it. */
export async function settledCluster(durability: 'async' | 'sync', extra: readonly SpecCluster[] = []): Promise<{ grid: DeclarativeGrid; leader: NodeInfo; replicas: NodeInfo[] }> {
  const grid = new DeclarativeGrid();
  try {
    await grid.startMaster();
    const ids = ['a1', 'a2', 'a3'];
    await Promise.all(ids.map((id) => grid.agent(id)));
    const replication: Record<string, string | number> = durability === 'sync' ? { durability, syncQuorum: 1 } : { durability };
    const spec = gridSpec(ids.map((id) => ({ id })), [{ name: 'kg', nodes: 3, topology: 'leader-replicas', replication }, ...extra], { replaceAfter: '10m' });
    await grid.apply(grid.writeSpec(spec));
    const settled = await eventually(async () => {
      const r = await roles(grid, 'kg');
      const following = r.replicas.length === 2 && r.replicas.every((n) => n.replication?.leader === addressOf(r.leader!) && n.replication.catchingUp === false);
      return r.leader?.replication?.role === 'leader' && following ? r : undefined;
    }, 60_000);
    return { grid, leader: settled.leader!, replicas: settled.replicas };
  } catch (err) {
    await grid.teardown();
    throw err;
  }
}
