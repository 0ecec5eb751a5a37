/**
 * A rolling memory change of a 4-node leader-replicas cluster, with a client writing all along and
 * a prober reading from every node every 100 ms: at least 3 nodes serve at every sample, replicas
 * restart first, the leader last after handing over to a replica, and no acknowledged write is
 * lost. Real master, agents and storage-servers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/processes.js';
import { TestStorageClient } from '../helpers/storage-client.js';
import { DeclarativeGrid, gridSpec } from '../declarative/support/declarative-grid.js';
import { LeaderFollowingWriter } from './handover-support.js';
import { addressOf, missingOn, roles, storageClients } from './support.js';

let grid: DeclarativeGrid | undefined;
const client = storageClients();

afterEach(async () => {
  const leaked = (await grid?.teardown()) ?? [];
  grid = undefined;
  expect(leaked).toEqual([]);
});

/** Reads from every node the master lists, every `everyMs`, and keeps the fewest that answered. */
class ServingProbe {
  minServing = Infinity;
  samples = 0;
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(private readonly g: DeclarativeGrid, private readonly cluster: string, everyMs: number) {
    this.done = this.run(everyMs);
  }

  private async run(everyMs: number): Promise<void> {
    while (!this.stopped) {
      const started = Date.now();
      const { nodes } = await this.g.client.listNodes('', this.cluster);
      const answers = await Promise.all(nodes.filter((n) => n.port > 0).map(async (n) => {
        const c = new TestStorageClient(addressOf(n));
        try {
          await c.queryConcept('probe-absent', 1_000);
          return 1;
        } catch {
          return 0;
        } finally {
          c.close();
        }
      }));
      this.minServing = Math.min(this.minServing, answers.reduce((a: number, b: number) => a + b, 0));
      this.samples++;
      await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (Date.now() - started))));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

describe('rolling update of a leader-replicas cluster', () => {
  it('restarts one node at a time, replicas first, the leader last after a handover, losing no acknowledged write', async () => {
    // GIVEN a settled 4-node sync cluster over four agents, a writer and a prober
    const g = (grid = new DeclarativeGrid());
    await g.startMaster();
    const ids = ['a1', 'a2', 'a3', 'a4'];
    await Promise.all(ids.map((id) => g.agent(id)));
    const spec = (memory: string): string =>
      g.writeSpec(gridSpec(ids.map((id) => ({ id })), [{ name: 'kg', nodes: 4, topology: 'leader-replicas', memory, update: { maxUnavailable: 1, minHealthyTime: '500ms' } }], { replaceAfter: '10m' }));
    await g.apply(spec('64Mi'), '120s');
    const before = await eventually(async () => {
      const r = await roles(g, 'kg');
      return r.leader !== undefined && r.replicas.length === 3 && r.replicas.every((n) => n.replication?.catchingUp === false && n.replication.leader === addressOf(r.leader!)) ? r : undefined;
    }, 60_000);
    const oldLeader = before.leader!;
    const writer = new LeaderFollowingWriter(addressOf(oldLeader), 'w');
    await eventually(() => writer.acked.length >= 100, 60_000);
    const probe = new ServingProbe(g, 'kg', 100);

    // WHEN the memory changes
    const file = spec('96Mi');
    const plan = await g.cli('plan', file);
    expect(plan.stdout).toMatch(new RegExp(`replace ${oldLeader.nodeId} on \\S+ \\(leader -> replica, 96 MiB\\) \\[step 4\\]: .*; hands leadership to kg-\\d first`));
    const res = await g.cli('apply', file, '--auto-approve', '--timeout', '240s');
    expect(res.code, res.stdout + res.stderr).toBe(0);
    await probe.stop();
    const atEnd = writer.acked.length;
    await eventually(() => writer.acked.length >= atEnd + 20, 60_000);
    await writer.stop();

    // THEN at least 3 of the 4 nodes served reads at every sample
    expect(probe.samples).toBeGreaterThan(20);
    expect(probe.minServing).toBeGreaterThanOrEqual(3);
    // ...the steps restarted the replicas first and the old leader last, after a handover
    const steps = await g.events('RolloutStepStarted');
    expect(steps.map((e) => e.nodeId)).toHaveLength(4);
    expect(steps[3]!.nodeId).toBe(oldLeader.nodeId);
    const handover = (await g.events('LeaderChanged')).filter((e) => e.cluster === 'kg' && e.index > steps[0]!.index);
    expect(handover).toHaveLength(1);
    // The leader's step hands over before the old leader is stopped.
    const stopped = (await g.events('StopRequested')).find((e) => e.nodeId === oldLeader.nodeId && e.index > steps[3]!.index);
    expect(handover[0]!.index).toBeGreaterThan(steps[3]!.index);
    expect(handover[0]!.index).toBeLessThan(stopped!.index);
    const heir = handover[0]!.nodeId;
    expect(heir).not.toBe(oldLeader.nodeId);
    expect((await g.events('RolloutDone')).filter((e) => e.cluster === 'kg')).toHaveLength(1);
    // ...every node runs the new memory, the heir leads and the old leader follows it
    const after = await eventually(async () => {
      const r = await roles(g, 'kg');
      return r.leader?.nodeId === heir && r.replicas.length === 3 && r.replicas.every((n) => n.replication?.leader === addressOf(r.leader!) && !n.replication.catchingUp) ? r : undefined;
    }, 60_000);
    expect(after.all.map((n) => n.memoryMb)).toEqual([96, 96, 96, 96]);
    // ...and no acknowledged write was lost: all of them are on the new leader and on every replica
    expect(await missingOn(client(after.leader!), writer.acked)).toEqual([]);
    for (const r of after.replicas) await eventually(async () => (await missingOn(client(r), writer.acked)).length === 0, 60_000, 250);
  }, 300_000);
});
