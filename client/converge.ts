/**
 * Waiting for the grid after one ApplySpec (or DeleteSpec): the spec is never sent again. The
 * master's event stream (WatchEvents) is the wake-up; each wake-up reads the grid (ListNodes,
 * GetClusterStatus with the reconciler's progress) and judges it. A read also happens after
 * `maxQuietMs` without events, for what no event marks (the reconciler finishing its last action).
 * Reads are paced by what they cost (READ_PACE): on a large grid a read is tens of milliseconds of
 * the master's main thread, and events come faster than that while it changes.
 */
import type { MasterClient } from './master-client.js';
import type { GridNode, GridStatus } from './node-wire.js';

/** The grid as one read saw it. */
export interface GridView {
  readonly nodes: readonly GridNode[];
  readonly status: GridStatus;
}

/** Knobs of a wait. */
export interface WaitOptions {
  readonly timeoutMs: number;
  /** Ends the wait early (Ctrl+C): the result says `interrupted`. */
  readonly signal?: AbortSignal | undefined;
  /** Called with every view read (progress lines). */
  readonly onView?: ((view: GridView) => void) | undefined;
  /** Longest time between two reads while no event arrives. @default 1000 */
  readonly maxQuietMs?: number | undefined;
}

/** Where the grid stands when a wait ends. */
export interface WaitResult {
  /** True when nothing was left. */
  readonly done: boolean;
  /** What is left, one line per cluster, node or reconciler state; empty when done. */
  readonly remaining: readonly string[];
  /** True when `signal` ended the wait first. */
  readonly interrupted: boolean;
  /**
   * Set when the wait ended because the change failed for good (a rollout that failed or was
   * reverted): why. `remaining` starts with the same line.
   */
  readonly failed?: string;
  /** The last view read (undefined only when interrupted before the first read). */
  readonly view: GridView | undefined;
}

/** Statuses of a node on its way somewhere: never converged while one is present. */
const TRANSITIONAL: ReadonlySet<string> = new Set(['starting', 'restarting', 'stopping']);
/** Statuses of a node whose process is gone. */
const GONE: ReadonlySet<string> = new Set(['stopped', 'failed']);

/**
 * A wait spends at most 1 / (1 + READ_PACE) of its time reading: after a read that took `d` ms, the
 * next starts no sooner than READ_PACE x d later, however many events come meanwhile. A read of a
 * 10,000-node grid takes ~30 ms (~15 ms of the master's CPU, ~60 ms before the master stopped
 * copying its nodes), and while such a grid changes an event comes every few milliseconds: unpaced,
 * one waiting client kept most of a core of the master busy (BENCHMARKS.md). On a small grid a read
 * takes a few milliseconds, so the pause is a few tens of them, less than the events' own spacing.
 */
const READ_PACE = 9;

/** The longest pause pacing makes: one read slowed by a passing stall must not hold the wait for long. */
const MAX_PACE_MS = 5_000;

/** Events that change nothing a wait looks at. */
const QUIET_EVENTS: ReadonlySet<string> = new Set(['AgentHeartbeat']);

/**
 * Waits until the grid matches the spec applied as `generation`: the master and its reconciler
 * have reached it, every planned action has run, every node is placed, every declared node runs
 * and no node of an undeclared cluster is up.
 */
export function waitConverged(master: MasterClient, generation: number, opts: WaitOptions): Promise<WaitResult> {
  return waitUntil(master, (view) => convergenceGaps(view, generation), opts, (view) => rolloutFailure(view, generation));
}

/** Why the spec applied as `generation` cannot converge any more: a rollout of it failed or was reverted. */
export function rolloutFailure(view: GridView, generation: number): string | undefined {
  const failed = view.status.reconcile.rollouts.filter((r) => r.generation === generation && (r.state === 'failed' || r.state === 'reverted'));
  if (failed.length === 0) return undefined;
  return failed.map((r) => `rollout of cluster ${r.cluster} ${r.state === 'reverted' ? 'failed and was reverted' : 'failed'}: ${r.reason}`).join('; ');
}

/** Waits until no node of `clusters` is up any more (after a DeleteSpec); `remaining` lists those still up. */
export function waitDrained(master: MasterClient, clusters: ReadonlySet<string>, opts: WaitOptions): Promise<WaitResult> {
  return waitUntil(master, ({ nodes }) => nodes.filter((n) => clusters.has(n.cluster) && !GONE.has(n.status)).map((n) => `cluster ${n.cluster}: node ${describeNode(n)}`), opts);
}

/**
 * Why `view` does not match the spec applied as `generation` yet, one line per reason; empty when
 * it does. The declared clusters are the master's (GetClusterStatus lists the applied spec's).
 */
export function convergenceGaps(view: GridView, generation: number): string[] {
  const { nodes, status } = view;
  const gaps: string[] = [];
  const r = status.reconcile;
  if (status.specGeneration < generation) gaps.push(`the master has not started generation ${generation} yet (at ${status.specGeneration})`);
  else if (r.generation < generation) gaps.push(`the reconciler has not planned generation ${generation} yet (at ${r.generation})`);
  for (const u of r.unplaced) gaps.push(u.reason);
  for (const o of r.rollouts) {
    if (o.generation !== generation) continue;
    if (o.state === 'rolling') gaps.push(`cluster ${o.cluster}: rolling restart at step ${o.step}, ${o.nodesDone} of ${o.nodesTotal} nodes restarted and healthy`);
    if (o.state === 'reverting') gaps.push(`cluster ${o.cluster}: rollout failed (${o.reason}); reverting to the last good spec`);
  }
  if (r.pendingActions > 0) gaps.push(`still planned: ${r.pendingActions} action${r.pendingActions === 1 ? '' : 's'} not finished`);
  const names = new Set(status.clusters.map((c) => c.name));
  for (const c of status.clusters) {
    const mine = nodes.filter((n) => n.cluster === c.name);
    const running = mine.filter((n) => n.status === 'running');
    const moving = mine.filter((n) => TRANSITIONAL.has(n.status) || n.status === 'failed');
    if (running.length !== c.desired || mine.some((n) => TRANSITIONAL.has(n.status))) {
      const detail = moving.length > 0 ? ` (${moving.map(describeNode).join('; ')})` : '';
      gaps.push(`cluster ${c.name}: ${running.length} of ${c.desired} nodes running${detail}`);
    }
  }
  const leftovers = nodes.filter((n) => n.cluster !== '' && !names.has(n.cluster) && !GONE.has(n.status));
  for (const n of leftovers) gaps.push(`node ${n.nodeId} of undeclared cluster ${n.cluster} is still ${n.status} on ${n.agentId}`);
  return gaps;
}

function describeNode(n: GridNode): string {
  const exit = n.lastExit ? `, ${n.lastExit}` : '';
  return `${n.nodeId} on ${n.agentId}: ${n.status}${exit}`;
}

/** Reads the grid: its nodes and status, at once. */
export async function readGrid(master: MasterClient): Promise<GridView> {
  const [nodes, status] = await Promise.all([master.listNodes(), master.getClusterStatus()]);
  return { nodes, status };
}

/** Reads until `gapsOf` finds nothing left, `failureOf` finds a failure, the timeout passes, or `signal` aborts. */
async function waitUntil(
  master: MasterClient,
  gapsOf: (view: GridView) => string[],
  opts: WaitOptions,
  failureOf: (view: GridView) => string | undefined = () => undefined,
): Promise<WaitResult> {
  const deadline = Date.now() + opts.timeoutMs;
  const maxQuietMs = opts.maxQuietMs ?? 1000;
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const wake = new Wake();
  const onEvent = (e: { type: string }): void => {
    if (!QUIET_EVENTS.has(e.type)) wake.set();
  };
  // The watch starts after the newest event known before the first read, so every change after
  // that read wakes the loop. A watch that cannot start or breaks leaves the reads every maxQuietMs.
  const last = await master.lastEventIndex().catch(() => undefined);
  const watching = last === undefined ? Promise.resolve() : master.watchEvents(last + 1, undefined, { onEvent }, stop.signal).catch(() => undefined);
  let view: GridView | undefined;
  let remaining: string[] = [];
  try {
    for (;;) {
      if (opts.signal?.aborted === true) return { done: false, remaining, interrupted: true, view };
      wake.clear();
      const readAt = performance.now();
      view = await readGrid(master);
      const readMs = performance.now() - readAt;
      opts.onView?.(view);
      remaining = gapsOf(view);
      if (remaining.length === 0) return { done: true, remaining, interrupted: false, view };
      const failed = failureOf(view);
      if (failed !== undefined) return { done: false, remaining: [failed, ...remaining], interrupted: false, view, failed };
      const left = deadline - Date.now();
      if (left <= 0) return { done: false, remaining, interrupted: false, view };
      await wake.wait(Math.min(maxQuietMs, left), stop.signal);
      const paced = Math.min(MAX_PACE_MS, READ_PACE * readMs) - (performance.now() - readAt - readMs);
      if (paced > 0) await pause(Math.min(paced, deadline - Date.now()), stop.signal);
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    stop.abort();
    await watching;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts; never rejects. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A flag set by events and awaited by the loop: an event during a read wakes the next wait at once. */
class Wake {
  #set = false;
  #wake: (() => void) | undefined;

  set(): void {
    this.#set = true;
    this.#wake?.();
  }

  clear(): void {
    this.#set = false;
  }

  /** Resolves once set, after `ms`, or when `signal` aborts, whichever comes first. */
  wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.#set || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.#wake = done;
    });
  }
}
