/**
 * `GET /api/grid/events` as server-sent events against a real master and agent: it follows live,
 * and a reconnect with `Last-Event-ID` gets exactly the events missed meanwhile, no gap, no
 * duplicate. A draining master ends open streams, so it stops without being forced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, trackPid } from '../helpers/processes.js';
import { HttpGrid } from './support/http-grid.js';
import { openSse, type SseFrame, type SseStream } from './support/sse-reader.js';

let grid: HttpGrid;

beforeAll(async () => {
  grid = new HttpGrid();
  await grid.startHttpMaster();
  await grid.agent('a1');
  await eventually(async () => ((await grid.call<{ agents: unknown[] }>('agents')).body.agents.length === 1 ? true : undefined), 20_000);
});

afterAll(async () => {
  const leaked = await grid.teardown();
  expect(leaked).toEqual([]);
});

interface Ev {
  readonly index: number;
  readonly type: string;
  readonly nodeId: string;
}

/** The event of a data frame, checking that its SSE id is its index. */
function eventOf(f: SseFrame): Ev {
  const e = JSON.parse(f.data) as Ev;
  expect(f.id).toBe(String(e.index));
  return e;
}

/** Reads frames until `done` says so, returning the events read. */
async function readUntil(s: SseStream, done: (e: Ev, all: Ev[]) => boolean): Promise<Ev[]> {
  const got: Ev[] = [];
  for (;;) {
    const f = await s.next(30_000);
    if (f === undefined) throw new Error(`stream ended after ${got.length} events`);
    if (f.event !== undefined) continue;
    const e = eventOf(f);
    got.push(e);
    if (done(e, got)) return got;
  }
}

/** Consecutive indexes from `from`: no gap, no duplicate. */
function expectConsecutive(events: readonly Ev[], from: number): void {
  expect(events.map((e) => e.index)).toEqual(events.map((_, i) => from + i));
}

describe('events over SSE', () => {
  it('follows live, then resumes after Last-Event-ID with exactly the missed events', async () => {
    // GIVEN a live stream, opened with nothing new yet
    const start = (await grid.call<{ lastIndex: number }>('events?limit=1')).body.lastIndex;
    const a = await openSse(`${grid.http}/api/grid/events`);
    expect(a.status).toBe(200);
    expect(a.headers.get('content-type')).toMatch(/^text\/event-stream/);

    // WHEN a node is spawned, the stream delivers its events as they happen
    const spawned = await grid.post('spawn', { agentId: 'a1', nodeId: 'sse-1' });
    expect(spawned.status, JSON.stringify(spawned.body)).toBe(200);
    trackPid(Number(spawned.body['pid']));
    const first = await readUntil(a, (e) => e.type === 'SpawnSucceeded' && e.nodeId === 'sse-1');
    expect(first[0]!.index).toBeGreaterThan(start);
    expectConsecutive(first, first[0]!.index);
    const lastSeen = first[first.length - 1]!.index;
    a.close();

    // AND while nobody listens, the node is stopped and another spawned
    expect((await grid.post('stop', { nodeId: 'sse-1' })).status).toBe(200);
    const second = await grid.post('spawn', { agentId: 'a1', nodeId: 'sse-2' });
    expect(second.status).toBe(200);
    trackPid(Number(second.body['pid']));
    const missed = await eventually(async () => {
      const l = await grid.call<{ events: Ev[] }>(`events?sinceIndex=${lastSeen + 1}&limit=100000`);
      return l.body.events.some((e) => e.type === 'SpawnSucceeded' && e.nodeId === 'sse-2') ? l.body.events : undefined;
    }, 20_000);
    const target = missed.find((e) => e.type === 'SpawnSucceeded' && e.nodeId === 'sse-2')!.index;

    // THEN a reconnect with Last-Event-ID starts right after the last event received
    const b = await openSse(`${grid.http}/api/grid/events`, { 'last-event-id': String(lastSeen) });
    const resumed = await readUntil(b, (e) => e.index >= target);
    b.close();
    expectConsecutive(resumed, lastSeen + 1);
    expect(resumed).toEqual(missed.filter((e) => e.index <= target));
    expect(resumed.map((e) => e.type)).toEqual(expect.arrayContaining(['StopRequested', 'StopSucceeded', 'SpawnRequested', 'SpawnSucceeded']));
    const seen = [...first, ...resumed].map((e) => e.index);
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('filters a stream as the list, and starts at sinceIndex', async () => {
    const s = await openSse(`${grid.http}/api/grid/events?type=SpawnRequested,StopRequested&sinceIndex=1`);
    const got = await readUntil(s, (_, all) => all.length === 3);
    s.close();
    expect(got.map((e) => `${e.type} ${e.nodeId}`)).toEqual(['SpawnRequested sse-1', 'StopRequested sse-1', 'SpawnRequested sse-2']);
    const listed = await grid.call<{ events: Ev[] }>('events?type=SpawnRequested,StopRequested');
    expect(got).toEqual(listed.body.events);
    const bad = await grid.call('events?type=Nope', { headers: { accept: 'text/event-stream' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ field: 'type', grpcCode: 'INVALID_ARGUMENT' });
    const badId = await grid.call('events', { headers: { accept: 'text/event-stream', 'last-event-id': 'x1' } });
    expect(badId.status).toBe(400);
    expect(badId.body).toMatchObject({ field: 'Last-Event-ID' });
  });

  it('a draining master ends open streams and stops unforced', async () => {
    const s = await openSse(`${grid.http}/api/grid/events`);
    expect(s.status).toBe(200);
    const exit = grid.master.stop('SIGTERM', 30_000);
    // The stream ends (keepalive comments are skipped; an end is undefined).
    for (;;) {
      const f = await s.next(20_000);
      if (f === undefined) break;
    }
    expect(await exit).toEqual({ code: 0, signal: null });
    expect(grid.master.logs()).toMatch(/master stopped/);
    expect(grid.master.logs()).not.toMatch(/forced to stop/);
  });
});
