/**
 * Several masters on a real three-member etcd, real agents and storage nodes: one leader, no split
 * brain. The leader killed (-9) or frozen (SIGSTOP), etcd members killed: the grid goes on, no node
 * is restarted or duplicated, and changes are refused clearly while etcd has no quorum.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ClientError, leaderHint, type GridNode } from '../../client/index.js';
import { eventually, isAlive, runCli, trackPid } from '../helpers/processes.js';
import { gridSpec } from '../declarative/support/declarative-grid.js';
import { EtcdGrid, LEASE_TTL_S, type GridMaster } from './support/etcd-grid.js';

let g: EtcdGrid | undefined;

afterEach(async () => {
  const leaked = (await g?.teardown()) ?? [];
  g = undefined;
  expect(leaked).toEqual([]);
});

const AGENTS = [{ id: 'a1' }, { id: 'a2' }];
const spec = (nodes: number) => gridSpec(AGENTS, [{ name: 'kv', nodes }]);

/**
 * The nodes as `m` lists them, or, when `m` no longer leads (on a loaded machine a leader may lose
 * its lease and another take over), as the leader it names lists them: the same nodes.
 */
async function listDeclared(m: GridMaster): Promise<GridNode[]> {
  try {
    return await m.client.listNodes();
  } catch (err) {
    const other = g!.masters.find((x) => x !== m && x.address === leaderHint((err as Error).message));
    if (other === undefined) throw err;
    return other.client.listNodes();
  }
}

/** Declared nodes as the leader lists them, once `count` run and none is duplicated. */
async function running(m: GridMaster, count: number, timeoutMs = 60_000): Promise<GridNode[]> {
  return eventually(async () => {
    const nodes = (await listDeclared(m)).filter((n) => n.cluster !== '' && n.status !== 'stopped');
    for (const n of nodes) trackPid(n.pid);
    const ids = nodes.map((n) => n.nodeId);
    if (new Set(ids).size !== ids.length) throw new Error(`a node runs twice: ${ids.join(',')}`);
    return nodes.length === count && nodes.every((n) => n.status === 'running') ? nodes : undefined;
  }, timeoutMs, 200);
}

const pidsOf = (nodes: readonly GridNode[]): Record<string, number> => Object.fromEntries(nodes.map((n) => [n.nodeId, n.pid]));

async function refusal(p: Promise<unknown>): Promise<ClientError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (!(err instanceof ClientError)) throw new Error(`expected a ClientError, got ${String(err)}`);
  return err;
}

describe('several masters on etcd', () => {
  it('two masters racing ApplySpec with the same expected generation: exactly one wins', async () => {
    g = await EtcdGrid.start(2);
    const leader = await g.leader();
    const follower = g.masters.find((m) => m !== leader)!;
    // (once the follower has looked at etcd: until then it knows of no leader to ask; then it
    // answers status with the leader's, forwarding the read)
    await eventually(async () => (await follower.client.getClusterStatus().catch(() => undefined))?.masters?.some((x) => x.leading && x.address === leader.address), 20_000);
    const json = JSON.stringify(spec(2));
    // WHEN both masters are asked at once to apply over generation 0
    const outcomes = await Promise.allSettled(g.masters.map((m) => m.client.applySpec(json, 0)));
    // THEN exactly one applies it: the leader; the other refuses and names the leader
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    expect(won).toHaveLength(1);
    expect(outcomes[g.masters.indexOf(leader)]?.status).toBe('fulfilled');
    const lost = outcomes.find((o) => o.status === 'rejected');
    const reason = (lost as PromiseRejectedResult).reason as ClientError;
    expect(reason.code).toBe('UNAVAILABLE');
    expect(reason.message).toContain(`[leader=${leader.address}]`);
    expect((await leader.client.getSpec()).generation).toBe(1);
    // AND `status` (given both masters) shows both, which one leads and since when, and etcd's health
    const status = await eventually(async () => {
      const res = await runCli(['status', '--json', '--master', g!.masters.map((m) => m.address).join(',')]);
      const view = JSON.parse(res.stdout) as { masters?: { address: string; leading: boolean; sinceMs: number }[]; store?: string };
      return view.masters?.length === 2 ? view : undefined;
    }, 20_000);
    expect(status.masters!.filter((m) => m.leading).map((m) => m.address)).toEqual([leader.address]);
    expect(status.masters!.find((m) => m.leading)!.sinceMs).toBe(g.ledAt(leader));
    expect(status.store).toMatch(/^etcd 127\.0\.0\.1:\d+.* healthy$/);
    // AND a client given both masters finds the leader itself, and is checked against generation 1
    const both = g.client();
    try {
      expect((await refusal(both.applySpec(JSON.stringify(spec(3)), 0))).code).toBe('STALE_GENERATION');
      expect((await both.applySpec(JSON.stringify(spec(3)), 1)).generation).toBe(2);
    } finally {
      both.close();
    }
  });

  it('kill -9 of the leader: another leads within two lease periods, no node restarted or duplicated, a change after it converges', async () => {
    g = await EtcdGrid.start(3);
    const first = await g.leader();
    await Promise.all(AGENTS.map((a) => g!.grid.agent(a.id)));
    await g.grid.apply(g.grid.writeSpec(spec(6)));
    const before = pidsOf(await running(first, 6));

    // WHEN the leader is killed (the one leading now: on a loaded machine it may have changed)
    const leader = await g.leader();
    const killedAt = Date.now();
    leader.process.proc.kill('SIGKILL');
    await leader.process.exited;

    // THEN another master leads within two lease periods
    const next = await g.leader([leader], 30_000);
    const ledAt = g.ledAt(next);
    expect(ledAt, g.logs()).toBeDefined();
    expect(ledAt! - killedAt, g.logs()).toBeLessThan(2 * LEASE_TTL_S * 1000);
    // AND it took the grid as it was: the same six nodes, same processes, none duplicated
    expect(pidsOf(await running(next, 6))).toEqual(before);
    // AND a change applied right after converges, under the new leader
    await g.grid.apply(g.grid.writeSpec(spec(7)));
    const after = await running(next, 7);
    for (const [id, pid] of Object.entries(before)) expect(pidsOf(after)[id], id).toBe(pid);
    expect((await next.client.getSpec()).generation).toBe(2);
  }, 180_000);

  it('a frozen leader (SIGSTOP) is replaced; when it resumes it acts on nothing and names the new leader', async () => {
    g = await EtcdGrid.start(2);
    const first = await g.leader();
    await Promise.all(AGENTS.map((a) => g!.grid.agent(a.id)));
    await g.grid.apply(g.grid.writeSpec(spec(4)));
    const before = pidsOf(await running(first, 4));

    // WHEN the leader freezes
    first.process.proc.kill('SIGSTOP');
    const next = await g.leader([first], 30_000);
    // AND the grid changes under the new leader (the frozen one still holds the old spec)
    expect((await next.client.applySpec(JSON.stringify(spec(3)), 1)).generation).toBe(2);
    const changed = await running(next, 3, 90_000);

    // THEN the old leader, resumed, steps down before acting on its stale spec
    first.process.proc.kill('SIGCONT');
    await first.process.waitForLog(/this master no longer leads/, 30_000);
    // (its next look at etcd names the new leader; until then it says none is known)
    const refused = await eventually(async () => {
      const e = await refusal(first.client.applySpec(JSON.stringify(spec(3)), 2));
      return e.message.includes('[leader=') ? e : undefined;
    }, 10_000);
    expect(refused.code).toBe('UNAVAILABLE');
    expect(refused.message).toContain(`[leader=${next.address}]`);
    // (and reads it answers with the new leader's view, asking it)
    expect((await first.client.getClusterStatus()).masters?.find((x) => x.leading)?.address).toBe(next.address);
    // AND the grid stays as the new leader made it: the surviving nodes are the same processes
    await g.grid.apply(g.grid.writeSpec(spec(3)));
    const now = await running(next, 3);
    expect(pidsOf(now)).toEqual(pidsOf(changed));
    for (const [id, pid] of Object.entries(pidsOf(now))) expect(before[id], id).toBe(pid);
  }, 180_000);

  it('one etcd member down changes nothing; two down: changes refused naming etcd, nodes keep running; restored: the grid goes on', async () => {
    g = await EtcdGrid.start(2);
    await g.leader();
    await Promise.all(AGENTS.map((a) => g!.grid.agent(a.id)));
    await g.grid.apply(g.grid.writeSpec(spec(3)));

    // One member down: a quorum is left, changes go on
    await g.etcd.kill(0);
    await g.grid.apply(g.grid.writeSpec(spec(4)));
    const leader = await g.leader();
    const four = await running(leader, 4);

    // Two down: no quorum. A change is refused, and the refusal names etcd
    await g.etcd.kill(1);
    const res = await g.grid.cli('apply', g.grid.writeSpec(spec(5)), '--auto-approve', '--timeout', '20s');
    expect(res.code, res.stdout + res.stderr).not.toBe(0);
    expect(res.stderr).toMatch(/etcd/);
    // AND the nodes keep running
    for (const n of four) expect(isAlive(n.pid), n.nodeId).toBe(true);

    // Restored: a leader again, the same nodes, and changes converge
    g.etcd.restart(0);
    g.etcd.restart(1);
    await g.etcd.waitHealthy(60_000);
    const back = await g.leader([], 60_000);
    await g.grid.apply(g.grid.writeSpec(spec(5)));
    const five = await running(back, 5);
    for (const n of four) expect(pidsOf(five)[n.nodeId], `${n.nodeId}\n${g.logs()}`).toBe(n.pid);
  }, 240_000);
});
