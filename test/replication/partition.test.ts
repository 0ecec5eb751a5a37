/**
 * A partition of the leader alone never leaves two nodes accepting writes at once: the leader's
 * agent is stopped with SIGSTOP (the leader's storage-server runs on and stays reachable), the
 * master holds the agent offline and promotes a replica; the old leader's write lease lapsed before
 * that, so its last accepted write is older than the new leader's first. Then the agent resumes:
 * the old leader rejoins as a replica of the new term, refuses writes naming the new leader, never
 * accepts another, and converges. Real master, agents (one process each) and storage-servers;
 * acceptance times are the servers' own stamps (updatedAtMs, one host, one clock).
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { codeOf } from '../helpers/agent-processes.js';
import { eventually } from '../helpers/processes.js';
import type { TestStorageClient } from '../helpers/storage-client.js';
import { DeclarativeGrid, gridSpec } from '../declarative/support/declarative-grid.js';
import { addressOf, ContinuousWriter, missingOn, roles, storageClients } from './support.js';

let grid: DeclarativeGrid | undefined;
/** The agent process stopped by the test, resumed after it whatever happened. */
let stoppedPid: number | undefined;
const client = storageClients();

afterEach(async () => {
  if (stoppedPid !== undefined) {
    try {
      process.kill(stoppedPid, 'SIGCONT');
    } catch {
      // gone already
    }
    stoppedPid = undefined;
  }
  const leaked = (await grid?.teardown()) ?? [];
  grid = undefined;
  expect(leaked).toEqual([]);
});

/** A write one node accepted: when, by the node's own clock. */
interface Accepted {
  readonly id: string;
  readonly atMs: number;
}

/**
 * Writes to every node, one write per node at a time, and keeps, per node, the writes it accepted
 * (with the node's acceptance stamp, read back at once) and the refusals it answered.
 */
class AcceptanceProbe {
  readonly accepted = new Map<string, Accepted[]>();
  readonly refusals = new Map<string, Array<{ code: number; details: string; atMs: number }>>();
  private stopped = false;
  private readonly done: Promise<void[]>;

  constructor(targets: ReadonlyArray<{ nodeId: string; client: TestStorageClient }>) {
    this.done = Promise.all(targets.map((t) => this.probe(t.nodeId, t.client)));
  }

  private async probe(nodeId: string, c: TestStorageClient): Promise<void> {
    const accepted: Accepted[] = [];
    const refusals: Array<{ code: number; details: string; atMs: number }> = [];
    this.accepted.set(nodeId, accepted);
    this.refusals.set(nodeId, refusals);
    for (let i = 0; !this.stopped; i++) {
      const id = `probe-${nodeId}-${i}`;
      const r = await codeOf(c.learnConcept(id, `accepted by ${nodeId}`));
      if (r.code === 0) {
        // The stamp is the node's: read it from the node that took the write, at once.
        const q = await c.queryConcept(id).catch(() => undefined);
        accepted.push({ id, atMs: Number(q?.concept?.updatedAtMs ?? 0) });
      } else {
        refusals.push({ ...r, atMs: Date.now() });
      }
      await new Promise((res) => setTimeout(res, 25));
    }
  }

  acceptedBy(nodeId: string): Accepted[] {
    return this.accepted.get(nodeId) ?? [];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }
}

function latest(a: readonly Accepted[]): number {
  return Math.max(...a.map((x) => x.atMs));
}

function earliest(a: readonly Accepted[]): number {
  return Math.min(...a.map((x) => x.atMs));
}

describe('partition of a leader alone (its agent stopped with SIGSTOP)', () => {
  it('the old leader stops taking writes before the new one starts; it rejoins as a replica and converges', async () => {
    // GIVEN a 3-node sync cluster (quorum 1) over three agents, each its own process; nodes are not replaced while away
    grid = new DeclarativeGrid();
    await grid.startMaster();
    const ids = ['a1', 'a2', 'a3'];
    await Promise.all(ids.map((id) => grid!.agent(id)));
    const spec = gridSpec(ids.map((id) => ({ id })), [{ name: 'kg', nodes: 3, topology: 'leader-replicas', replication: { durability: 'sync', syncQuorum: 1 } }], { replaceAfter: '10m' });
    await grid.apply(grid.writeSpec(spec));
    const before = await eventually(async () => {
      const r = await roles(grid!, 'kg');
      return r.leader?.replication?.role === 'leader' && r.replicas.length === 2 && r.replicas.every((n) => n.replication?.leader === addressOf(r.leader!) && !n.replication.catchingUp) ? r : undefined;
    }, 20_000);
    const oldLeader = before.leader!;
    const oldTerm = oldLeader.replication!.term;
    const agentPids = new Set(ids.map((id) => grid!.agentProcess(id).pid));
    expect(agentPids.size, 'one process per agent').toBe(3);

    // ...clients writing to the leader, and a probe writing to every node all along
    const writers = ['w', 'x'].map((prefix) => new ContinuousWriter(client(oldLeader), prefix));
    const probe = new AcceptanceProbe(before.all.map((n: NodeInfo) => ({ nodeId: n.nodeId, client: client(n) })));
    await eventually(() => writers.every((w) => w.acked.length >= 50) && probe.acceptedBy(oldLeader.nodeId).length >= 5, 20_000);
    expect(before.replicas.every((n) => probe.acceptedBy(n.nodeId).length === 0), 'replicas accept nothing').toBe(true);

    // WHEN only the leader's agent is stopped: its storage-server runs on, reachable by everyone
    const agent = grid.agentProcess(oldLeader.agentId);
    process.kill(agent.pid, 'SIGSTOP');
    stoppedPid = agent.pid;
    const stoppedAt = Date.now();

    // THEN a replica is promoted in a later term once the master holds the agent offline
    const promoted = await eventually(async () => {
      const events = await grid!.events('LeaderChanged');
      return events.find((e) => e.cluster === 'kg' && e.nodeId !== oldLeader.nodeId && (e.payload['term'] as number) > oldTerm);
    }, 30_000, 200);
    const newTerm = promoted.payload['term'] as number;
    const newLeader = before.replicas.find((n) => n.nodeId === promoted.nodeId)!;
    expect(newLeader).toBeDefined();
    // ...and takes writes
    await eventually(() => probe.acceptedBy(newLeader.nodeId).length >= 5, 20_000);
    await Promise.all(writers.map((w) => w.stop()));

    // ...the old leader refused writes for its lapsed lease, naming its term, while it was still the leader of it
    const oldRefusals = probe.refusals.get(oldLeader.nodeId)!.filter((r) => r.atMs >= stoppedAt);
    const leaseRefusal = oldRefusals.find((r) => r.details.startsWith('leader lease expired'));
    expect(leaseRefusal, JSON.stringify(oldRefusals.slice(0, 3))).toBeDefined();
    expect(leaseRefusal!.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(leaseRefusal!.details).toContain(`term ${oldTerm}`);
    // ...and its last accepted write is older than the new leader's first: never two writers at once
    const lastOnOld = latest(probe.acceptedBy(oldLeader.nodeId));
    const firstOnNew = earliest(probe.acceptedBy(newLeader.nodeId));
    console.log(`old leader's last accepted write ${lastOnOld - stoppedAt} ms after its agent stopped; new leader's first ${firstOnNew - stoppedAt} ms after`);
    expect(lastOnOld).toBeGreaterThan(0);
    expect(lastOnOld).toBeLessThan(firstOnNew);
    // (The lease is offlineAfter/2 = 800 ms from the last answered heartbeat: a ceiling with slack, far below the promotion.)
    expect(lastOnOld - stoppedAt).toBeLessThan(1600);

    // ...and every write acknowledged by either leader is on the new one
    const acked = [...writers.flatMap((w) => w.acked), ...probe.acceptedBy(oldLeader.nodeId).map((a) => a.id), ...probe.acceptedBy(newLeader.nodeId).map((a) => a.id)];
    const nc = client(newLeader);
    expect(await missingOn(nc, acked)).toEqual([]);

    // WHEN the agent resumes
    process.kill(agent.pid, 'SIGCONT');
    stoppedPid = undefined;

    // THEN the old leader is a replica of the new term, following the new leader, caught up
    let lastSeen: unknown;
    await eventually(async () => {
      const nodes = await grid!.nodes('kg');
      lastSeen = nodes.map((x) => ({ nodeId: x.nodeId, agentId: x.agentId, status: x.status, role: x.role, replication: x.replication }));
      const n = nodes.filter((x) => x.status === 'running').find((x) => x.nodeId === oldLeader.nodeId);
      const r = n?.replication;
      return r?.role === 'replica' && r.term === newTerm && r.leader === addressOf(newLeader) && !r.catchingUp && r.leaseUnconfirmed === false ? n : undefined;
    }, 60_000, 200).catch((err: unknown) => {
      throw new Error(`the old leader did not rejoin as a replica of term ${newTerm} following ${addressOf(newLeader)}: ${(err as Error).message}; last seen ${JSON.stringify(lastSeen)}\nmaster log:\n${grid!.masterLogs().split('\n').slice(-30).join('\n')}`);
    });
    // ...refuses writes, naming the new leader
    const refused = await codeOf(client(oldLeader).learnConcept('stale', 'written to the old leader'));
    expect(refused.code, refused.details).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(refused.details).toContain(addressOf(newLeader));
    // ...has taken nothing since the new leader's first write, its agent back or not
    await new Promise((r) => setTimeout(r, 1000));
    await probe.stop();
    expect(latest(probe.acceptedBy(oldLeader.nodeId))).toBe(lastOnOld);
    expect(probe.acceptedBy(before.replicas.find((n) => n.nodeId !== newLeader.nodeId)!.nodeId)).toEqual([]);
    // ...and converges to the new leader's data
    const all = [...acked, ...probe.acceptedBy(newLeader.nodeId).map((a) => a.id)];
    await eventually(async () => (await missingOn(client(oldLeader), all)).length === 0, 30_000, 250);
    // Exactly one leader, in the new term.
    const final = await roles(grid, 'kg');
    expect(final.all.filter((n) => n.replication?.role === 'leader').map((n) => n.nodeId)).toEqual([newLeader.nodeId]);
    expect(final.leader?.replication?.term).toBe(newTerm);
  });
});
