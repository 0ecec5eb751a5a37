/**
 * Several masters on a real three-member etcd share one event log: followers answer event and
 * spec reads themselves, and when the leader is killed (-9) the indexes go on with no gap and no
 * repeat under the new leader, while `events --follow` moves to another master and says so.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { ListEventsResponse } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { CLI, REPO_ROOT, childEnv, eventually, trackPid } from '../helpers/processes.js';
import { gridSpec } from '../declarative/support/declarative-grid.js';
import { EtcdGrid, type GridMaster } from './support/etcd-grid.js';

let g: EtcdGrid | undefined;

afterEach(async () => {
  const leaked = (await g?.teardown()) ?? [];
  g = undefined;
  expect(leaked).toEqual([]);
});

const AGENTS = [{ id: 'a1' }, { id: 'a2' }];
const spec = (nodes: number) => gridSpec(AGENTS, [{ name: 'kv', nodes }]);

interface Printed {
  readonly index: number;
  readonly type: string;
  readonly payload: Record<string, unknown>;
}

/** `events --follow --json` given every master, `first` first: what it printed, line by line. */
function follow(masters: readonly string[]) {
  const proc = spawn(process.execPath, [CLI, 'events', '--follow', '--json', '--master', masters.join(',')], { cwd: REPO_ROOT, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  trackPid(proc.pid ?? 0);
  let out = '';
  let err = '';
  proc.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
  proc.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const printed = (): Printed[] =>
    out
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Printed);
  return { proc, exited, printed, stderr: () => err };
}

/** Every event of the log, as master `m` lists it (one address: no redirect is followed). */
async function allEvents(m: GridMaster): Promise<ListEventsResponse> {
  return m.client.call('listEvents', { filter: undefined, sinceIndex: 0, sinceUs: 0, untilUs: 0, limit: 100_000 });
}

function expectContiguous(indexes: readonly number[], context: string): void {
  const first = indexes[0] ?? 1;
  expect(indexes, context).toEqual(indexes.map((_, i) => first + i));
}

describe('events of several masters on etcd', () => {
  it('followers serve events and the spec; a kill -9 of the leader leaves no gap or repeat, and --follow says it moved', async () => {
    g = await EtcdGrid.start(3);
    const first = await g.leader();
    const followers = g.masters.filter((m) => m !== first);
    await Promise.all(AGENTS.map((a) => g!.grid.agent(a.id)));
    await g.grid.apply(g.grid.writeSpec(spec(2)));
    await eventually(async () => (await allEvents(first)).events.some((e) => e.type === 'SpecApplied'), 30_000);

    // A follower answers reads from etcd itself, without naming the leader: the same log, the same spec
    const leaderView = await allEvents(first);
    for (const f of followers) {
      const view = await eventually(async () => {
        const v = await allEvents(f);
        return v.lastIndex >= leaderView.lastIndex ? v : undefined;
      }, 20_000);
      expect(view.events.slice(0, leaderView.events.length).map((e) => [e.index, e.type, e.timestampUs])).toEqual(leaderView.events.map((e) => [e.index, e.type, e.timestampUs]));
      expect((await f.client.getSpec()).generation).toBe(1);
    }
    // ...and what only the leader knows (live nodes, status, a plan) it asks the leader for
    const leaderNodes = (await first.client.listNodes()).map((n) => [n.nodeId, n.agentId, n.pid]).sort();
    const leaderPlan = (await first.client.applySpec(JSON.stringify(spec(3)), undefined, true)).plan;
    for (const f of followers) {
      expect((await f.client.listNodes()).map((n) => [n.nodeId, n.agentId, n.pid]).sort()).toEqual(leaderNodes);
      expect((await f.client.getClusterStatus()).masters?.find((x) => x.leading)?.address).toBe(first.address);
      expect((await f.client.applySpec(JSON.stringify(spec(3)), undefined, true)).plan).toEqual(leaderPlan);
      // while a write is still refused, naming the leader
      await expect(f.client.applySpec(JSON.stringify(spec(3)), 1)).rejects.toThrow(`[leader=${first.address}]`);
    }

    // GIVEN a client following the events, on the leader first
    const watcher = follow([first.address, ...followers.map((f) => f.address)]);
    try {
      await eventually(() => watcher.printed().some((e) => e.type === 'SpecApplied'), 30_000);

      // WHEN the leader is killed, and the grid changes under the next one
      first.process.proc.kill('SIGKILL');
      await first.process.exited;
      const next = await g.leader([first], 30_000);
      await g.grid.apply(g.grid.writeSpec(spec(3)));

      // THEN the watcher goes on at another master and says so
      const generation2 = (e: Printed): boolean => e.type === 'SpecApplied' && e.payload['generation'] === 2;
      await eventually(() => watcher.printed().some(generation2), 60_000).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; the watcher printed up to #${watcher.printed().at(-1)?.index}, stderr: ${watcher.stderr()}\n${g!.logs()}`);
      });
      // (stderr is another pipe: its line may reach this process after the events printed after it)
      const switched = new RegExp(`^-- now following master 127\\.0\\.0\\.1:\\d+ \\((leader since \\d{4}-|a follower; )[^\\n]*master ${first.address.replace(/\./g, '\\.')} was lost\n`, 'm');
      await eventually(() => switched.test(watcher.stderr()), 20_000).catch(() => undefined);
      expect(watcher.stderr(), `printed ${watcher.printed().map((e) => e.index).join(',')}\n${g.logs()}`).toMatch(switched);
      // AND what it printed has every index once, in order, across both leaders
      const printed = watcher.printed();
      expectContiguous(printed.map((e) => e.index), watcher.stderr());
      expect(printed.filter((e) => e.type === 'SpecApplied').map((e) => e.payload['generation'])).toEqual([1, 2]);
      // AND the log itself, as the new leader and the other follower list it, is the same, with no gap
      const other = followers.find((f) => f !== next)!;
      const after = await allEvents(next);
      expectContiguous(after.events.map((e) => e.index), g.logs());
      const otherView = await eventually(async () => {
        const v = await allEvents(other);
        return v.lastIndex >= after.lastIndex ? v : undefined;
      }, 20_000);
      expect(otherView.events.slice(0, after.events.length).map((e) => e.index)).toEqual(after.events.map((e) => e.index));
      // (the watcher saw the log's own indexes, not a copy's)
      const byIndex = new Map(after.events.map((e) => [e.index, e.type]));
      for (const e of printed) if (byIndex.has(e.index)) expect(byIndex.get(e.index), `#${e.index}`).toBe(e.type);
    } finally {
      watcher.proc.kill('SIGINT');
      await watcher.exited;
    }
  }, 180_000);
});
