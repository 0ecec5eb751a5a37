/**
 * The master's Prometheus metrics (prom-client), one private registry per master. Latencies and
 * counts arrive as the master works ({@link MasterMetrics}); the grid's state (agents, nodes,
 * replication lag, event store) is read from the master's services at each scrape, so a gauge is
 * never stale; restarts and rollout steps are counted from the event log (the agents' NodeRestarted
 * reports, the rollout tracker's RolloutStep* events).
 * Names follow Prometheus conventions: `sutra_grid_` prefix, base units, `_total` counters.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MasterApi, MasterMetrics } from '../master/index.js';

const outcome = (ok: boolean): string => (ok ? 'ok' : 'error');

/** The rollout events and the `outcome` label of `sutra_grid_rollout_steps_total` each counts as. */
const ROLLOUT_OUTCOME: Readonly<Record<string, string>> = {
  RolloutStepStarted: 'started',
  RolloutStepDone: 'done',
  RolloutFailed: 'failed',
  RolloutReverted: 'reverted',
};

/** Every event type the metrics count from the event log. */
const COUNTED = { NodeRestarted: true, NodeCrashed: true, RolloutStepStarted: true, RolloutStepDone: true, RolloutFailed: true, RolloutReverted: true } as const;
type CountedType = keyof typeof COUNTED;

/** Keeps the numbers of one master and renders them for `GET /metrics`. */
export class GridMetrics implements MasterMetrics {
  readonly registry = new Registry();
  private api: MasterApi | undefined;
  private follow: { abort: AbortController; done: Promise<void> } | undefined;

  private readonly spawnSeconds = new Histogram({
    name: 'sutra_grid_spawn_duration_seconds',
    help: 'Time from the master asking an agent to spawn a node to its answer (imperative spawns and the reconciler\'s)',
    labelNames: ['outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly stopSeconds = new Histogram({
    name: 'sutra_grid_stop_duration_seconds',
    help: 'Time from the master asking an agent to stop a node to its answer',
    labelNames: ['outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly heartbeatSeconds = new Histogram({
    name: 'sutra_grid_heartbeat_interval_seconds',
    help: 'Time between consecutive heartbeats of an agent as the master receives them (late heartbeats show as long intervals)',
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60],
    registers: [this.registry],
  });
  private readonly passSeconds = new Histogram({
    name: 'sutra_grid_reconcile_pass_duration_seconds',
    help: 'Time a reconcile pass takes to plan against the live grid and queue its actions',
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  private readonly actions = new Counter({
    name: 'sutra_grid_reconcile_actions_total',
    help: 'Reconcile actions completed, by plan operation and outcome',
    labelNames: ['op', 'outcome'],
    registers: [this.registry],
  });
  private readonly writeSeconds = new Histogram({
    name: 'sutra_grid_event_store_write_duration_seconds',
    help: 'Time the event log takes to write and sync one batch of events',
    labelNames: ['outcome'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  private readonly written = new Counter({
    name: 'sutra_grid_event_store_written_events_total',
    help: 'Events the event log made durable',
    registers: [this.registry],
  });
  private readonly restarts = new Counter({
    name: 'sutra_grid_node_restarts_total',
    help: 'Node restarts agents reported (NodeRestarted events), by cluster ("" for nodes spawned by hand)',
    labelNames: ['cluster'],
    registers: [this.registry],
  });
  private readonly crashes = new Counter({
    name: 'sutra_grid_node_crashes_total',
    help: 'Node crashes agents reported (NodeCrashed events), by cluster',
    labelNames: ['cluster'],
    registers: [this.registry],
  });

  private readonly rolloutSteps = new Counter({
    name: 'sutra_grid_rollout_steps_total',
    help: 'Rollout steps by cluster and outcome, from the event log: started and done (RolloutStepStarted/RolloutStepDone), failed (the rollout stopped at a step: RolloutFailed) and reverted (RolloutReverted)',
    labelNames: ['cluster', 'outcome'],
    registers: [this.registry],
  });

  constructor() {
    const self = this;
    const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge, api: MasterApi) => void): void => {
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        collect() {
          this.reset();
          if (self.api !== undefined) fill(this, self.api);
        },
      });
    };
    gauge('sutra_grid_agents', 'Registered agents by health', ['health'], (g, { registry }) => {
      const counts: Record<string, number> = { healthy: 0, degraded: 0, offline: 0 };
      for (const a of registry.list()) counts[a.health] = (counts[a.health] ?? 0) + 1;
      for (const [health, n] of Object.entries(counts)) g.set({ health }, n);
    });
    gauge('sutra_grid_nodes', 'Nodes the master lists, by cluster ("" for nodes spawned by hand), status and role', ['cluster', 'status', 'role'], (g, { declarative }) => {
      for (const n of declarative.nodes({})) g.inc({ cluster: n.cluster, status: n.status, role: n.role });
    });
    gauge('sutra_grid_cluster_desired_nodes', 'Nodes each cluster of the applied spec declares', ['cluster'], (g, { declarative }) => {
      for (const c of declarative.clusters()) g.set({ cluster: c.name }, c.desired);
    });
    gauge('sutra_grid_cluster_running_nodes', 'Declared nodes of each cluster that run', ['cluster'], (g, { declarative }) => {
      for (const c of declarative.clusters()) g.set({ cluster: c.name }, c.running);
    });
    gauge('sutra_grid_agent_heartbeat_age_seconds', 'Time since each agent was last heard from', ['agent'], (g, { registry }) => {
      const now = Date.now();
      for (const a of registry.list()) g.set({ agent: a.info.agentId }, Math.max(0, now - a.lastHeartbeatMs) / 1000);
    });
    gauge('sutra_grid_replication_lag_records', "Records a replica's log is behind its leader's, as the replica last reported", ['cluster', 'node'], (g, { registry }) => {
      for (const n of registry.nodes.list()) {
        const r = n.replication;
        if (r === undefined || r.role !== 'replica') continue;
        g.set({ cluster: n.cluster, node: n.nodeId }, Math.max(0, r.leaderLogPosition - r.logPosition));
      }
    });
    gauge('sutra_grid_reconcile_pending_actions', 'Reconcile actions planned and not completed yet', [], (g, { declarative }) => g.set(declarative.reconciler.progress.pendingActions));
    gauge('sutra_grid_spec_generation', 'Generation of the applied spec (0: none applied)', [], (g, { declarative }) => g.set(declarative.desired.current().generation));
    gauge('sutra_grid_event_store_pending_events', 'Events queued for the event log, not durable yet', [], (g, { events }) => g.set(events.stats().pending));
    gauge('sutra_grid_event_log_last_index', 'Index of the newest durable event', [], (g, { events }) => g.set(events.stats().lastIndex));
    new Counter({
      name: 'sutra_grid_events_dropped_total',
      help: 'Events dropped because the event store failed and the buffer was full',
      registers: [this.registry],
      collect() {
        this.reset();
        if (self.api !== undefined) this.inc(self.api.events.stats().dropped);
      },
    });
  }

  /** Starts reading the master's state at scrapes and counting restarts from its event log. */
  attach(api: MasterApi): void {
    this.api = api;
    const abort = new AbortController();
    this.follow = { abort, done: this.countEvents(api, abort.signal) };
  }

  /** Stops following the event log. Idempotent. */
  async detach(): Promise<void> {
    this.follow?.abort.abort();
    await this.follow?.done;
    this.follow = undefined;
  }

  /** The Prometheus text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Counts restarts, crashes and rollout steps from the event log as it grows. */
  private async countEvents(api: MasterApi, signal: AbortSignal): Promise<void> {
    try {
      for await (const item of api.events.watch(api.events.store.lastIndex + 1, { types: Object.keys(COUNTED) as CountedType[] }, signal)) {
        if (item.kind !== 'event') continue;
        const e = item.event;
        const rollout = ROLLOUT_OUTCOME[e.type];
        if (rollout !== undefined) this.rolloutSteps.inc({ cluster: e.cluster, outcome: rollout });
        else (e.type === 'NodeRestarted' ? this.restarts : this.crashes).inc({ cluster: e.cluster });
      }
    } catch (err) {
      if (!signal.aborted) api.logger.warn({ err: (err as Error).message }, 'metrics: stopped counting restarts and rollout steps from the event log');
    }
  }

  nodeOperation(e: { op: 'spawn' | 'stop'; seconds: number; ok: boolean }): void {
    (e.op === 'spawn' ? this.spawnSeconds : this.stopSeconds).observe({ outcome: outcome(e.ok) }, e.seconds);
  }

  heartbeat(e: { intervalSeconds: number }): void {
    this.heartbeatSeconds.observe(e.intervalSeconds);
  }

  reconcilePass(e: { seconds: number }): void {
    this.passSeconds.observe(e.seconds);
  }

  reconcileAction(e: { op: string; ok: boolean }): void {
    this.actions.inc({ op: e.op, outcome: outcome(e.ok) });
  }

  eventWrite(e: { seconds: number; events: number; ok: boolean }): void {
    this.writeSeconds.observe({ outcome: outcome(e.ok) }, e.seconds);
    if (e.ok) this.written.inc(e.events);
  }
}
