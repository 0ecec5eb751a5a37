/**
 * WatchEvents from index 0 across master restarts (graceful and kill -9): a client that resumes
 * from its last index + 1 sees every durable event exactly once, in order, with no gap.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { Event } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { unary } from '../../client/index.js';
import { startAgent } from '../helpers/agent-processes.js';
import { TestMasterClient, fakeAgent } from '../helpers/grid-client.js';
import { cleanup, eventually, startMaster, tempDir, type DaemonProcess } from '../helpers/processes.js';
import { EventsClient, FAST_MASTER, contiguous, watch } from './support.js';

afterEach(cleanup);

/**
 * A watch client as a user would write one: on any end or error it re-watches from the last index
 * it received + 1, until stopped.
 */
function resumingWatcher(address: string): { events: Event[]; reconnects: number; truncated: boolean; stop(): Promise<void> } {
  const state = { events: [] as Event[], reconnects: 0, truncated: false, stopped: false, current: undefined as ReturnType<typeof watch> | undefined };
  const loop = (async () => {
    const c = new TestMasterClient(address);
    try {
      while (!state.stopped) {
        const last = state.events[state.events.length - 1];
        const w = watch(c, last === undefined ? 0 : last.index + 1, undefined, (e) => state.events.push(e));
        state.current = w;
        await w.ended;
        if (w.starts.some((s) => s.truncated)) state.truncated = true;
        if (state.stopped) break;
        state.reconnects++;
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      c.close();
    }
  })();
  return {
    get events() {
      return state.events;
    },
    get reconnects() {
      return state.reconnects;
    },
    get truncated() {
      return state.truncated;
    },
    async stop() {
      state.stopped = true;
      state.current?.cancel();
      await loop;
    },
  };
}

/** Reports one NodeCrashed (exit code = sequence number) every `everyMs` as a fake agent would. */
function reporter(getAddress: () => string, everyMs = 15): { acked: Array<{ seq: number; atMs: number }>; stop(): Promise<void> } {
  const acked: Array<{ seq: number; atMs: number }> = [];
  let stopped = false;
  let client: TestMasterClient | undefined;
  let address = '';
  let registered = false;
  const loop = (async () => {
    for (let seq = 1; !stopped; seq++) {
      if (address !== getAddress()) {
        client?.close();
        address = getAddress();
        client = new TestMasterClient(address);
        registered = false;
      }
      const c = client!;
      const event = { index: 0, timestampUs: 0, type: 'NodeCrashed', severity: '', agentId: '', nodeId: 'w1', cluster: '', payloadJson: JSON.stringify({ exitCode: seq }), count: 1, lastSeenUs: 0, message: '' };
      try {
        // The master records events of registered agents only; like an agent, register (again
        // after NOT_FOUND: a restarted master forgot us) before reporting.
        if (!registered) await c.register(fakeAgent('reporter'));
        registered = true;
        await unary(c.raw.reportNodeEvents as never, c.raw, { agentId: 'reporter', events: [event] }, undefined, 1000);
        acked.push({ seq, atMs: Date.now() });
      } catch (err) {
        // master away: this one is lost to the reporter, which is the reporter's business
        if ((err as { code?: number }).code === GrpcStatus.NOT_FOUND) registered = false;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    acked,
    async stop() {
      stopped = true;
      await loop;
      client?.close();
    },
  };
}

async function restartScenario(kind: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const dataDir = tempDir('master-');
  let master: DaemonProcess = await startMaster({ dataDir, args: FAST_MASTER });
  const address = master.address;
  await startAgent({ master: address });
  const watcher = resumingWatcher(address);
  const rep = reporter(() => address);

  // GIVEN events flowing and a watcher following from index 0
  await eventually(() => rep.acked.length >= 30, 15_000);
  // WHEN the master goes away and comes back on the same address and data dir
  await master.stop(kind);
  // Acks seen until the process is confirmed dead may still be in its last, unflushed batch.
  const deadAt = Date.now();
  master = await startMaster({ dataDir, listen: address, args: FAST_MASTER });
  const ackedBefore = rep.acked.length;
  await eventually(() => rep.acked.length >= ackedBefore + 30, 15_000);
  await rep.stop();

  // THEN the watcher, resuming on its own, ends up with exactly the log: every index once, in order
  const c = new EventsClient(address);
  try {
    // Acks come at emit(); durability follows within a group commit.
    const lastAcked = rep.acked[rep.acked.length - 1]!.seq;
    await eventually(async () => (await c.ofType('NodeCrashed', { agentId: 'reporter' })).some((e) => e.payload['exitCode'] === lastAcked), 5000);
    const log = (await c.list()).map((e) => ({ index: e.index, type: e.type, timestampUs: e.timestampUs, count: e.count }));
    const final = log[log.length - 1]!.index;
    await eventually(() => watcher.events.length > 0 && watcher.events[watcher.events.length - 1]!.index >= final, 10_000);
    await watcher.stop();
    expect(watcher.reconnects).toBeGreaterThanOrEqual(1);
    expect(watcher.truncated).toBe(false);
    contiguous(watcher.events, 1);
    expect(watcher.events.slice(0, log.length).map((e) => ({ index: e.index, type: e.type, timestampUs: e.timestampUs, count: e.count }))).toEqual(log);
    contiguous(log, 1);

    // The reporter's events are in the log in the order sent, none twice.
    const stored = (await c.ofType('NodeCrashed', { agentId: 'reporter' })).map((e) => e.payload['exitCode'] as number);
    expect(stored).toEqual([...stored].sort((a, b) => a - b));
    expect(new Set(stored).size).toBe(stored.length);
    const storedSet = new Set(stored);
    const missing = rep.acked.map((a) => a.seq).filter((s) => !storedSet.has(s));
    if (kind === 'SIGTERM') {
      // A graceful stop loses nothing that was acknowledged.
      expect(missing).toEqual([]);
    } else {
      // kill -9 may lose only the unflushed tail: what is missing comes after everything kept
      // from before the kill (no hole), and was acknowledged before the process died.
      const ackedBeforeDeath = rep.acked.filter((a) => a.atMs <= deadAt).map((a) => a.seq);
      const keptBefore = Math.max(0, ...ackedBeforeDeath.filter((s) => storedSet.has(s)));
      expect(missing.filter((s) => s < keptBefore)).toEqual([]);
      expect(missing.every((s) => ackedBeforeDeath.includes(s))).toBe(true);
    }
  } finally {
    c.close();
  }
}

describe('watch across a master restart', () => {
  it('graceful restart: the resuming watcher sees every event exactly once, in order, no gap', async () => {
    await restartScenario('SIGTERM');
  });

  it('kill -9: the index continues after the last durable event; still no gap or repeat', async () => {
    await restartScenario('SIGKILL');
  });
});
