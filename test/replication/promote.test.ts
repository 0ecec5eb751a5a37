/**
 * `sutra-grid promote NODE`: a planned handover of a leader-replicas cluster's leadership to a
 * caught-up replica while a client writes, in async and sync mode: every acknowledged write is on
 * the new leader, the old one refuses writes naming it, exactly one node takes writes afterwards.
 * And the refusals: an unknown node, the leader itself, a standalone node, a malformed id. Real
 * master, agents and storage-servers; timing bounds are generous ceilings only.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientError, MasterClient } from '../../client/index.js';
import { codeOf } from '../helpers/agent-processes.js';
import { eventually, runCli } from '../helpers/processes.js';
import type { DeclarativeGrid } from '../declarative/support/declarative-grid.js';
import { LeaderFollowingWriter, settledCluster } from './handover-support.js';
import { addressOf, missingOn, roles, storageClients } from './support.js';

let grid: DeclarativeGrid | undefined;
const client = storageClients();

afterEach(async () => {
  const leaked = (await grid?.teardown()) ?? [];
  grid = undefined;
  expect(leaked).toEqual([]);
});

/** The ClientError code of a master call that must fail. */
async function clientCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ClientError) return `${err.code}: ${err.message}`;
    throw err;
  }
  throw new Error('the call succeeded');
}

describe.each(['async', 'sync'] as const)('promote in a %s cluster', (durability) => {
  it('hands over to a caught-up replica while a client writes, losing no acknowledged write', async () => {
    // GIVEN a settled 3-node cluster and two clients writing to its leader all along
    const c = await settledCluster(durability);
    grid = c.grid;
    const { leader: oldLeader, replicas } = c;
    const oldTerm = oldLeader.replication!.term;
    const chosen = replicas[0]!;
    const writers = ['p', 'q'].map((prefix) => new LeaderFollowingWriter(addressOf(oldLeader), prefix));
    const acked = (): string[] => writers.flatMap((w) => w.acked);
    await eventually(() => acked().length >= 200, 60_000);

    // WHEN the operator promotes a replica
    const res = await runCli(['promote', chosen.nodeId, '--master', grid.master.address], { timeoutMs: 90_000 });

    // THEN one line says who leads which term
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trim()).toMatch(new RegExp(`^${chosen.nodeId} is now the leader of cluster kg in term ${oldTerm + 1} \\(took over from ${oldLeader.nodeId} at log position \\d+\\)$`));
    // ...writes go on, on the new leader
    const atPromotion = acked().length;
    await eventually(() => acked().length >= atPromotion + 100, 60_000);
    await Promise.all(writers.map((w) => w.stop()));
    for (const w of writers) expect(w.writers).toEqual([addressOf(oldLeader), addressOf(chosen)]);

    // ...every acknowledged write is on the new leader
    const nc = client(chosen);
    expect(await missingOn(nc, acked())).toEqual([]);
    // ...the old leader refuses writes, naming the new leader
    const refused = await codeOf(client(oldLeader).learnConcept('late', 'to the old leader'));
    expect(refused.code, refused.details).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(refused.details).toContain(addressOf(chosen));
    // ...exactly one node takes writes (each node is listed running again once the master has seen
    // it in the new term: until its next heartbeat it shows as starting)
    const nodes = await eventually(async () => {
      const all = (await roles(grid!, 'kg')).all;
      return all.length === 3 ? all : undefined;
    }, 30_000);
    const accepting = [];
    for (const n of nodes) if ((await codeOf(client(n).learnConcept(`probe-${n.nodeId}`, 'probe'))).code === 0) accepting.push(n.nodeId);
    expect(accepting).toEqual([chosen.nodeId]);
    // ...the change is an event with its term, and every node ends in the new term following the new leader
    const changed = await eventually(async () => (await grid!.events('LeaderChanged')).find((e) => e.cluster === 'kg' && e.nodeId === chosen.nodeId), 30_000);
    expect(changed.payload).toEqual({ leaderId: chosen.nodeId, term: oldTerm + 1 });
    const final = await eventually(async () => {
      const r = await roles(grid!, 'kg');
      const ok = r.leader?.nodeId === chosen.nodeId && r.leader.replication?.term === oldTerm + 1 && r.replicas.every((n) => n.replication?.term === oldTerm + 1 && n.replication.leader === addressOf(chosen));
      return ok && r.replicas.length === 2 ? r : undefined;
    }, 60_000);
    // ...and the old leader converges to the new leader's data
    expect(final.replicas.map((n) => n.nodeId)).toContain(oldLeader.nodeId);
    await eventually(async () => (await missingOn(client(oldLeader), acked())).length === 0, 60_000, 250);
  }, 240_000);
});

describe('promote refusals', () => {
  it('refuses an unknown node, the leader, a standalone node and a malformed id, each with its own status', async () => {
    // GIVEN a leader-replicas cluster and a standalone one
    const c = await settledCluster('async', [{ name: 'solo', nodes: 1, topology: 'standalone' }]);
    grid = c.grid;
    const solo = await eventually(async () => (await grid!.nodes('solo')).find((n) => n.status === 'running'), 60_000);

    // THEN an unknown node: NOT_FOUND, one line on stderr, exit 1
    const unknown = await runCli(['promote', 'no-such-node', '--master', grid.master.address]);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toContain('no-such-node');
    expect(unknown.stderr).toContain('not found');

    const master = new MasterClient({ address: grid.master.address });
    try {
      expect(await clientCode(master.promoteNode('no-such-node'))).toMatch(/^NOT_FOUND: /);
      // ...the leader itself: FAILED_PRECONDITION saying it already leads
      expect(await clientCode(master.promoteNode(c.leader.nodeId))).toMatch(new RegExp(`^FAILED_PRECONDITION: .*${c.leader.nodeId} is already the leader of cluster kg`));
      // ...a standalone node: FAILED_PRECONDITION naming the topology
      expect(await clientCode(master.promoteNode(solo.nodeId))).toMatch(/^FAILED_PRECONDITION: .*topology is standalone/);
      // ...a malformed or oversized id: INVALID_ARGUMENT naming the field
      expect(await clientCode(master.promoteNode('bad id!'))).toMatch(/^INVALID_ARGUMENT: .*node_id/);
      expect(await clientCode(master.promoteNode('x'.repeat(300)))).toMatch(/^INVALID_ARGUMENT: .*node_id/);
    } finally {
      master.close();
    }
    const leaderCli = await runCli(['promote', c.leader.nodeId, '--master', grid.master.address]);
    expect(leaderCli.code).toBe(1);
    expect(leaderCli.stderr).toContain('already the leader');

    // ...and nothing changed: the same leader, in the same term
    const r = await roles(grid, 'kg');
    expect(r.leader?.nodeId).toBe(c.leader.nodeId);
    expect(r.leader?.replication?.term).toBe(c.leader.replication!.term);
    expect((await grid.events('LeaderChanged')).filter((e) => e.cluster === 'kg')).toEqual([]);
  }, 180_000);

  it('list-nodes shows role, term and log position', async () => {
    const c = await settledCluster('async');
    grid = c.grid;
    await client(c.leader).learnConcept('one', 'a write');
    // (Positions as the agents last read them: every node at 1 once the replicas have it.)
    await eventually(async () => (await grid!.nodes('kg')).every((n) => n.replication?.logPosition === 1), 30_000);
    const res = await runCli(['list-nodes', '--cluster', 'kg', '--master', grid.master.address]);
    expect(res.code, res.stderr).toBe(0);
    const [header, ...lines] = res.stdout.trim().split('\n');
    expect(header).toMatch(/^NODE\s+AGENT\s+STATUS\s+ROLE\s+TERM\s+POSITION\s/);
    const term = c.leader.replication!.term;
    const row = (id: string): string[] => lines.find((l) => l.startsWith(`${id} `))!.trim().split(/\s+/);
    expect(row(c.leader.nodeId).slice(2, 6)).toEqual(['running', 'leader', String(term), '1']);
    for (const r of c.replicas) expect(row(r.nodeId).slice(2, 6)).toEqual(['running', 'replica', String(term), '1']);
    const json = await runCli(['list-nodes', '--cluster', 'kg', '--json', '--master', grid.master.address]);
    const nodes = (JSON.parse(json.stdout) as { nodes: { nodeId: string; role: string; term: number; logPosition: number }[] }).nodes;
    expect(nodes.find((n) => n.nodeId === c.leader.nodeId)).toMatchObject({ role: 'leader', term, logPosition: 1 });
    const status = await runCli(['node-status', c.replicas[0]!.nodeId, '--master', grid.master.address]);
    expect(status.stdout).toMatch(new RegExp(`role\\s+replica, following ${addressOf(c.leader).replace(/\./g, '\\.')}`));
    expect(status.stdout).toMatch(new RegExp(`term\\s+${term}\\n`));
    expect(status.stdout).toMatch(/position\s+1 of 1\n/);
  }, 180_000);
});
