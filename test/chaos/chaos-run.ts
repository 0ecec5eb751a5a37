/**
 * A seeded chaos run against a real grid: random faults (node, agent and master kill -9, agent
 * SIGSTOP) are injected into a 3-agent, 12-node grid while a poller records every event it sees;
 * then every fault is healed and the invariants are checked by the caller. Shared by the CI test
 * (30 faults) and `npm run chaos` (CHAOS_FAULTS=200 or more).
 */
import type { Event } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import type { NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { EventsClient } from '../events-e2e/support.js';
import { eventually, isAlive, pidsMentioning } from '../helpers/processes.js';
import { DeclarativeGrid, duplicates, gridSpec, portBlock } from '../declarative/support/declarative-grid.js';
import { prng } from '../helpers/prng.js';

/** What one fault did, for the failure message. */
export interface FaultRecord {
  readonly atMs: number;
  readonly what: string;
}

/** What a run saw, for the invariant checks. */
export interface ChaosReport {
  readonly seed: number;
  readonly faults: readonly FaultRecord[];
  /** Faults injected (recoveries not counted). */
  readonly injected: number;
  readonly masterKills: number;
  /** Every event the poller saw while the run went on, by index (the first sighting). */
  readonly seen: ReadonlyMap<number, Event>;
}

export const AGENTS = ['a1', 'a2', 'a3'] as const;

/** The spec: 12 nodes over 3 agents of 6 slots, so any 2 agents hold the grid. */
export function chaosSpec(): Record<string, unknown> {
  return gridSpec(
    AGENTS.map((id) => ({ id, nodes: 6 })),
    [
      { name: 'kv', nodes: 6, topology: 'leader-replicas' },
      { name: 'st', nodes: 6 },
    ],
    { replaceAfter: '1s' },
  );
}

type AgentState = 'up' | 'down' | 'stopped';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `faults` seeded faults against `grid` (master and agents already started, spec applied).
 * Faults overlap: an agent killed or stopped comes back after a random delay while others go on.
 */
export async function runChaos(grid: DeclarativeGrid, masterListen: string, seed: number, faults: number, log: (line: string) => void = () => {}): Promise<ChaosReport> {
  const random = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const between = (lo: number, hi: number): number => Math.round(lo + random() * (hi - lo));
  const t0 = Date.now();
  const records: FaultRecord[] = [];
  const note = (what: string): void => {
    records.push({ atMs: Date.now() - t0, what });
    log(`+${Date.now() - t0}ms ${what}`);
  };
  const agentState = new Map<string, AgentState>(AGENTS.map((id) => [id, 'up']));
  let masterUp = true;
  let masterKills = 0;
  const pending: Promise<void>[] = [];

  // The poller: lists events past the last one seen, surviving master restarts.
  const seen = new Map<number, Event>();
  let polling = true;
  let events: EventsClient | undefined;
  const poller = (async () => {
    let since = 1;
    while (polling) {
      try {
        if (masterUp) {
          events ??= new EventsClient(grid.master.address);
          const res = await events.listRaw({ sinceIndex: since, limit: 1000 });
          for (const e of res.events) if (!seen.has(e.index)) seen.set(e.index, e);
          const last = res.events[res.events.length - 1];
          if (last !== undefined) since = last.index + 1;
        }
      } catch {
        events?.close();
        events = undefined;
      }
      await sleep(150);
    }
    events?.close();
  })();

  const restartMaster = async (): Promise<void> => {
    await grid.startMaster(masterListen);
    masterUp = true;
    note('master restarted');
  };
  const restartAgent = async (id: string): Promise<void> => {
    await grid.agent(id);
    agentState.set(id, 'up');
    note(`agent ${id} restarted`);
  };
  const resumeAgent = (id: string): void => {
    process.kill(grid.agentProcess(id).pid, 'SIGCONT');
    agentState.set(id, 'up');
    note(`agent ${id} SIGCONT`);
  };

  let injected = 0;
  for (let tries = 0; injected < faults && tries < faults * 5; tries++) {
    await sleep(between(300, 1200));
    const upAgents = AGENTS.filter((id) => agentState.get(id) === 'up');
    const r = random();
    if (r < 0.4) {
      // A node: its agent restarts it (or, if the agent is away, the master replaces it later).
      const pids = upAgents.flatMap((id) => grid.nodePids(id));
      if (pids.length === 0) continue;
      const pid = pick(pids);
      try {
        process.kill(pid, 'SIGKILL');
        note(`node pid ${pid} kill -9`);
        injected++;
      } catch {
        // it ended meanwhile
      }
    } else if (r < 0.6 && upAgents.length > 1) {
      const id = pick(upAgents);
      agentState.set(id, 'down');
      await grid.agentProcess(id).stop('SIGKILL');
      note(`agent ${id} kill -9`);
      injected++;
      const back = between(500, 3500);
      pending.push(sleep(back).then(() => restartAgent(id)));
    } else if (r < 0.85 && upAgents.length > 1) {
      const id = pick(upAgents);
      agentState.set(id, 'stopped');
      process.kill(grid.agentProcess(id).pid, 'SIGSTOP');
      note(`agent ${id} SIGSTOP`);
      injected++;
      const back = between(500, 4000);
      pending.push(sleep(back).then(() => resumeAgent(id)));
    } else if (masterUp) {
      masterUp = false;
      masterKills++;
      events?.close();
      events = undefined;
      await grid.master.stop('SIGKILL');
      note('master kill -9');
      injected++;
      const back = between(300, 1500);
      pending.push(sleep(back).then(restartMaster));
    }
  }
  // Heal: every fault's own recovery, then anything still away.
  await Promise.all(pending);
  for (const [id, s] of agentState) {
    if (s === 'stopped') resumeAgent(id);
    else if (s === 'down') await restartAgent(id);
  }
  if (!masterUp) await restartMaster();
  // Let the poller see the healing too, then stop it.
  await sleep(500);
  polling = false;
  await poller;
  return { seed, faults: records, injected, masterKills, seen };
}

/** The grid's declared nodes once converged: 12 running, one copy each, on healthy agents. */
export async function converged(grid: DeclarativeGrid, timeoutMs: number): Promise<NodeInfo[]> {
  return eventually(async () => {
    const nodes = (await grid.nodes()).filter((n) => n.status !== 'stopped');
    const { agents } = await grid.client.listAgents();
    const healthy = agents.filter((a) => a.health === 'healthy').length;
    if (healthy !== AGENTS.length) return undefined;
    if (nodes.length !== 12 || duplicates(nodes).length > 0) return undefined;
    return nodes.every((n) => n.status === 'running') ? nodes : undefined;
  }, timeoutMs, 250);
}

/** Live storage-server processes of this grid that no listed node owns. */
export function orphans(grid: DeclarativeGrid, nodes: readonly NodeInfo[]): number[] {
  const owned = new Set(nodes.map((n) => n.pid));
  return grid.nodePids().filter((pid) => !owned.has(pid) && isAlive(pid));
}

/**
 * Index problems between what was seen live and what the master lists at the end: an index that
 * now names another event (reuse), indexes out of order, and gaps in the final list.
 */
export function indexProblems(seen: ReadonlyMap<number, Event>, final: readonly Event[]): { reused: string[]; disorder: string[]; gaps: number } {
  const reused: string[] = [];
  const disorder: string[] = [];
  let gaps = 0;
  let prev = 0;
  for (const e of final) {
    if (e.index <= prev) disorder.push(`${e.index} after ${prev}`);
    else if (prev !== 0 && e.index !== prev + 1) gaps++;
    prev = e.index;
    const before = seen.get(e.index);
    if (before !== undefined && (before.type !== e.type || before.timestampUs !== e.timestampUs || before.nodeId !== e.nodeId)) {
      reused.push(`#${e.index}: seen ${before.type} ${before.nodeId}@${before.timestampUs}, now ${e.type} ${e.nodeId}@${e.timestampUs}`);
    }
  }
  return { reused, disorder, gaps };
}

/** A fixed loopback address for the master, so restarted masters are found by the agents again. */
export function masterAddress(): string {
  return `127.0.0.1:${portBlock(1).start}`;
}

export { pidsMentioning };
