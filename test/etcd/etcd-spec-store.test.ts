/**
 * The etcd store against a real three-member etcd cluster: optimistic writes (two writers that
 * read the same state: exactly one wins), fencing by the leadership, and a clear refusal when
 * etcd has lost its quorum.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { EtcdSpecStore } from '../../runtime/master/index.js';
import { GridError } from '../../errors/index.js';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { cleanup } from '../helpers/processes.js';

let cluster: EtcdCluster;
const clients: Etcd3[] = [];

beforeAll(async () => {
  cluster = await EtcdCluster.start(3);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await cluster?.stop();
  await cleanup();
});

let prefixes = 0;
function stores(n: number, fence?: () => { key: string; createRevision: number } | undefined): EtcdSpecStore[] {
  const prefix = `/test-${process.pid}-${prefixes++}/`;
  return Array.from({ length: n }, () => {
    const client = new Etcd3({ hosts: cluster.endpoints.map((e) => `http://${e}`), defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + 3000 }) });
    clients.push(client);
    return new EtcdSpecStore({ client, prefix, endpoints: cluster.endpoints, ...(fence !== undefined ? { fence } : {}) });
  });
}

const spec = (generation: number, name: string) => ({ specJson: JSON.stringify({ name }), generation, appliedAtMs: Date.now(), leaders: {} });

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    return err instanceof GridError ? err.code : `not a GridError: ${(err as Error).message}`;
  }
}

describe('EtcdSpecStore on a real etcd cluster', () => {
  it('keeps every field of the state and reads it back in a new store', async () => {
    const [a, b] = stores(2);
    expect(await a!.load()).toBeUndefined();
    const full = {
      ...spec(3, 'g'),
      leaders: { kv: 'kv-1' },
      terms: { kv: 4 },
      cordons: { a1: { reason: 'disk', sinceMs: 5, drainDeadlineMs: 9 } },
      deleted: false,
      good: { specJson: '{"name":"old"}', generation: 2 },
    };
    await a!.save(full);
    expect(await b!.load()).toEqual(full);
  });

  it('of two stores that read the same state and write, exactly one wins', async () => {
    const [a, b] = stores(2);
    await a!.save(spec(1, 'base'));
    await b!.load();
    await a!.load();
    // WHEN both write generation 2 at once
    const outcomes = await Promise.all([codeOf(a!.save(spec(2, 'from-a'))), codeOf(b!.save(spec(2, 'from-b')))]);
    // THEN exactly one wins, the other is told the state changed under it
    expect([...outcomes].sort()).toEqual(['OK', 'STALE_GENERATION']);
    const winner = outcomes[0] === 'OK' ? 'from-a' : 'from-b';
    const stored = await a!.load();
    expect(stored?.generation).toBe(2);
    expect((JSON.parse(stored!.specJson) as { name: string }).name).toBe(winner);
  });

  it('refuses a write when the fence says this master does not lead, and when its leader key is gone', async () => {
    let fence: { key: string; createRevision: number } | undefined;
    const [a] = stores(1, () => fence);
    await a!.load();
    expect(await codeOf(a!.save(spec(1, 'x')))).toBe('MASTER_NOT_LEADER');
    // A fence naming a leader key that does not exist (the lease expired): etcd refuses the txn.
    fence = { key: '/no-such-leader-key', createRevision: 7 };
    expect(await codeOf(a!.save(spec(1, 'x')))).toBe('MASTER_NOT_LEADER');
    expect(await a!.load()).toBeUndefined();
  });

  it('refuses writes with QUORUM_UNAVAILABLE naming etcd when two of three members are down, and works again when they are back', async () => {
    const [a] = stores(1);
    await a!.save(spec(1, 'before'));
    await cluster.kill(1);
    // One member down: a quorum remains, writes go on.
    await a!.save(spec(2, 'one-down'));
    await cluster.kill(2);
    const err = await a!.save(spec(3, 'two-down')).then(() => undefined, (e: unknown) => e as GridError);
    expect(err?.code).toBe('QUORUM_UNAVAILABLE');
    expect(err?.message).toMatch(/etcd \(127\.0\.0\.1:\d+/);
    cluster.restart(1);
    cluster.restart(2);
    await cluster.waitHealthy(60_000);
    // The refused write was not confirmed, but etcd may still commit it once the members are back
    // (its proposal was in the leader's log): the store reads before it writes again.
    const now = await a!.load();
    expect([2, 3]).toContain(now?.generation);
    await a!.save(spec(now!.generation + 1, 'after'));
    expect((await a!.load())?.specJson).toBe(JSON.stringify({ name: 'after' }));
  }, 120_000);
});
