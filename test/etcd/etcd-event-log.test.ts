/**
 * The shared event log against a real three-member etcd: appends in several transactions stay
 * contiguous, a follower sees them through its watch, a deposed writer appends nothing, the next
 * writer goes on after the last index, and retention by count moves every master's first index.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { EtcdEventLog } from '../../runtime/master/index.js';
import type { GridEvent } from '../../runtime/events/index.js';
import { GridError } from '../../errors/index.js';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { cleanup, eventually } from '../helpers/processes.js';

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

function client(): Etcd3 {
  const c = new Etcd3({ hosts: cluster.endpoints.map((e) => `http://${e}`), defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + 3000 }) });
  clients.push(c);
  return c;
}

const event = (index: number): GridEvent =>
  ({ index, timestampUs: 1_000_000 + index, type: 'AgentHeartbeat', severity: 'info', agentId: 'a1', nodeId: '', cluster: '', payload: { nodeCount: index }, count: 1, lastSeenUs: 1_000_000 + index }) as GridEvent;
const range = (from: number, to: number): GridEvent[] => Array.from({ length: to - from + 1 }, (_, i) => event(from + i));

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    return err instanceof GridError ? err.code : `not a GridError: ${(err as Error).message}`;
  }
}

describe('EtcdEventLog on a real etcd cluster', () => {
  it('one writer at a time, fenced by the leader key; followers follow; retention moves the first index everywhere', async () => {
    const prefix = `/test-events-${process.pid}/`;
    const admin = client();
    const leaderKey = `${prefix}leader`;
    // The leader key as the election writes it: its create revision is the fence.
    const lead = async (): Promise<number> => {
      await admin.delete().key(leaderKey);
      return Number((await admin.put(leaderKey).value('x').exec()).header.revision);
    };
    let fenceA: number | undefined = await lead();
    let fenceB: number | undefined;
    const a = new EtcdEventLog({ client: client(), prefix, fence: () => (fenceA === undefined ? undefined : { key: leaderKey, createRevision: fenceA }) });
    const b = new EtcdEventLog({ client: client(), prefix, fence: () => (fenceB === undefined ? undefined : { key: leaderKey, createRevision: fenceB }) });
    await a.open();
    await b.open();
    let told = 0;
    b.onAppended(() => told++);

    // A follower appends nothing
    expect(await codeOf(b.append(range(1, 1)))).toBe('MASTER_NOT_LEADER');
    // The writer's batch of 250 (three transactions) lands whole, and the follower sees it
    await a.takeOver();
    await a.append(range(1, 250));
    expect(a.lastIndex).toBe(250);
    await eventually(() => b.lastIndex === 250, 10_000);
    expect(told).toBeGreaterThan(0);
    expect((await b.read(1, 1000)).map((e) => e.index)).toEqual(range(1, 250).map((e) => e.index));
    expect(b.indexAtOrAfter(1_000_000 + 100)).toBe(100);

    // WHEN the leadership moves to B (a new leader key): A is deposed, B goes on after 250
    fenceB = await lead();
    // (A still holds its old fence, as a frozen leader would: etcd's compare refuses it)
    expect(await codeOf(a.append(range(251, 251)))).toBe('MASTER_NOT_LEADER');
    fenceA = undefined;
    await b.takeOver();
    expect(await codeOf(b.append([{ ...event(250), timestampUs: 5 } as GridEvent]))).not.toBe('OK');
    await b.append(range(251, 260));
    await eventually(() => a.lastIndex === 260, 10_000);
    expect((await a.read(1, 1000)).map((e) => e.index)).toEqual(range(1, 260).map((e) => e.index));

    // AND retention by count (the leader's) moves the first index on every master
    expect(await a.applyRetention({ maxEvents: 100, nowUs: 0 })).toBe(0);
    expect(await b.applyRetention({ maxEvents: 100, nowUs: 0 })).toBe(160);
    expect(b.firstIndex).toBe(161);
    await eventually(() => a.firstIndex === 161, 10_000);
    expect((await a.read(1, 5)).map((e) => e.index)).toEqual([161, 162, 163, 164, 165]);
    expect(a.indexAtOrAfter(0)).toBe(161);
    // A master that opens the log now finds it as it is
    const c = new EtcdEventLog({ client: client(), prefix, fence: () => undefined });
    await c.open();
    expect([c.firstIndex, c.lastIndex]).toEqual([161, 260]);
    expect((await c.read(250, 100)).map((e) => e.index)).toEqual(range(250, 260).map((e) => e.index));
    for (const log of [a, b, c]) await log.close();
  });
});
