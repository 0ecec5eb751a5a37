import type { GetClusterStatusResponse } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { clusterStatus, planGrid, planToJson, type ClusterHealthState, type Plan } from '../../provider/plan/index.js';
import { formatDiagnostic, parseGridSpec, type CompiledGridSpec } from '../../schema/index.js';
import { GridError } from '../errors.js';
import { checkSpecSize } from '../common/grpc-limits.js';
import type { Logger } from '../common/logger.js';
import type { HandlerFactory } from './master-context.js';
import type { AgentRegistry } from './agent-registry.js';
import { computeClusterStatus } from './cluster-status.js';
import type { NodeOperations } from './node-operations.js';
import { DesiredStateManager } from './reconcile/desired-state.js';
import { buildLiveState } from './reconcile/live-state.js';
import { Reconciler, type ReconcilerEvents } from './reconcile/reconciler.js';
import type { SpecStore } from './spec-store.js';

/** How long a new cluster may take to become healthy before its health is reported as an alarm. */
const NEW_CLUSTER_GRACE_MS = 120_000;

/** Declarative lifecycle facts, for the event bus. */
export interface DeclarativeEvents extends ReconcilerEvents {
  specApplied?(e: { generation: number; plan: Plan; deleted: boolean }): void;
  clusterHealthChanged?(e: { cluster: string; health: ClusterHealthState; previous: ClusterHealthState | undefined; running: number; desired: number }): void;
}

export interface DeclarativeOptions {
  readonly registry: AgentRegistry;
  readonly ops: NodeOperations;
  readonly store: SpecStore;
  readonly logger: Logger;
  readonly offlineAfterMs: number;
  /** @see ReconcilerOptions.intervalMs */
  readonly reconcileIntervalMs: number;
  /** @see ReconcilerOptions.settleMs */
  readonly settleMs: number;
  readonly events?: DeclarativeEvents;
  /** Event store health for GetClusterStatus. */
  readonly eventStats?: () => { dropped: number; storeError: string | null };
}

/**
 * The master's declarative half: the applied spec (ApplySpec/GetSpec/DeleteSpec), the reconciler
 * that keeps the grid equal to it, and per-cluster health.
 */
export class DeclarativeControl {
  readonly desired: DesiredStateManager;
  readonly reconciler: Reconciler;
  private readonly health = new Map<string, ClusterHealthState>();
  /** When each cluster was first seen, until it is healthy for the first time. */
  private readonly converging = new Map<string, number>();

  constructor(private readonly o: DeclarativeOptions) {
    this.desired = new DesiredStateManager(o.store, compileSpecJson, () => this.reconciler.trigger());
    this.reconciler = new Reconciler(
      {
        desired: () => this.desired.desired(),
        live: () => this.live(),
        spawn: async (agentId, n) => {
          await o.ops.spawn({ agentId, nodeId: n.nodeId, memoryMb: n.memoryMb, cluster: n.cluster, role: n.role, generation: n.generation, replacing: true });
        },
        stop: async (agentId, nodeId) => {
          await o.ops.stop(nodeId, 0, agentId);
        },
        setLeader: (cluster, nodeId) => this.desired.setLeader(cluster, nodeId),
        resumed: () => this.desired.resumed,
      },
      {
        intervalMs: o.reconcileIntervalMs,
        settleMs: o.settleMs,
        observe: () => this.observeClusters(),
        logger: o.logger.child({ component: 'reconciler' }),
        ...(o.events !== undefined ? { events: o.events } : {}),
      },
    );
  }

  /** Loads the stored spec; call before serving. Resolves with why a stored spec is held unenforced. */
  init(): Promise<string | undefined> {
    return this.desired.init();
  }

  /** Reconciles, reporting cluster health as the reconciler sees and changes it, until `signal` aborts. */
  run(signal: AbortSignal): Promise<void> {
    return this.reconciler.run(signal);
  }

  private live() {
    return buildLiveState(this.o.registry, this.desired.desired()?.leaders ?? {}, this.o.offlineAfterMs, Date.now());
  }

  /** Per-cluster status of the applied spec. */
  clusters(): GetClusterStatusResponse['clusters'] {
    const d = this.desired.desired();
    if (d === undefined) return [];
    const nodes = this.live().nodes;
    return d.spec.clusters.map((c) => clusterStatus(c, nodes)).map((s) => ({ ...s }));
  }

  private observeClusters(): void {
    const statuses = this.clusters();
    const seen = new Set<string>();
    for (const s of statuses) {
      seen.add(s.name);
      const previous = this.health.get(s.name);
      if (previous === s.health) continue;
      if (previous === undefined && s.health !== 'healthy') {
        // A cluster that is still being created is not critical: no alarm until it was healthy
        // once, or has failed to get there within the grace.
        const since = this.converging.get(s.name) ?? Date.now();
        this.converging.set(s.name, since);
        if (Date.now() - since < NEW_CLUSTER_GRACE_MS) continue;
      }
      this.converging.delete(s.name);
      this.health.set(s.name, s.health as ClusterHealthState);
      this.o.logger.info({ cluster: s.name, running: s.running, desired: s.desired }, `cluster ${s.name} is ${s.health} (${s.running}/${s.desired} running)`);
      this.o.events?.clusterHealthChanged?.({ cluster: s.name, health: s.health as ClusterHealthState, previous, running: s.running, desired: s.desired });
    }
    for (const name of [...this.health.keys()]) if (!seen.has(name)) this.health.delete(name);
    for (const name of [...this.converging.keys()]) if (!seen.has(name)) this.converging.delete(name);
  }

  /** ApplySpec, GetSpec, DeleteSpec, and GetClusterStatus with per-cluster health. */
  handlers(): HandlerFactory {
    return (ctx) => {
      return {
        applySpec: async (req) => {
          // Before any work. Only new specs are held to the limit: one stored before it still loads,
          // so its grid can be fixed by applying a smaller spec.
          checkSpecSize(req.specJson);
          const result = await this.desired.apply(req.specJson, req.expectedGeneration, req.dryRun, (spec) => planGrid(spec, this.live()));
          if (result.changed) {
            this.o.logger.info({ generation: result.generation }, `spec applied: generation ${result.generation} (${result.plan.summary.create} to create, ${result.plan.summary.destroy} to destroy)`);
            this.o.events?.specApplied?.({ generation: result.generation, plan: result.plan, deleted: false });
          }
          return { planJson: planToJson(result.plan, 0), generation: result.generation, changed: result.changed };
        },
        getSpec: () => {
          const c = this.desired.current();
          return { specJson: c.specJson, generation: c.generation, appliedAtMs: c.appliedAtMs };
        },
        deleteSpec: async (req) => {
          // Destructive, so never implied: an empty request (or a body the decoder read as one) deletes nothing.
          if (req.expectedGeneration === undefined && req.gridName === '') {
            throw new GridError('INVALID_ARGUMENT', 'expected_generation or grid_name: is required; DeleteSpec must name the generation (GetSpec) or the grid it deletes', {
              field: 'expected_generation',
            });
          }
          const generation = await this.desired.delete(req.expectedGeneration, req.gridName);
          this.o.logger.info({ generation }, `spec deleted: generation ${generation}; its nodes are being stopped`);
          this.o.events?.specApplied?.({ generation, plan: { actions: [], unplaced: [], deferred: [], summary: { create: 0, destroy: 0, update: 0, replace: 0, unchanged: 0 }, changed: false }, deleted: true });
          return { generation };
        },
        listNodes: (req) => {
          const leaders = this.desired.desired()?.leaders ?? {};
          const nodes = ctx.registry.nodes.list({ agentId: req.agentId, cluster: req.cluster });
          // Roles as the master assigns them: a promotion changes no process, only who leads.
          return { nodes: nodes.map((n) => (n.cluster !== '' && leaders[n.cluster] !== undefined && n.role !== 'standalone' ? { ...n, role: leaders[n.cluster] === n.nodeId ? 'leader' : 'replica' } : n)) };
        },
        getClusterStatus: () => ({
          ...computeClusterStatus(ctx.registry),
          clusters: this.clusters(),
          specGeneration: this.desired.current().generation,
          eventsDropped: this.o.eventStats?.().dropped ?? 0,
          eventStoreError: this.o.eventStats?.().storeError ?? '',
        }),
      };
    };
  }
}

/** Diagnostics sent back in one ApplySpec error; the count of the rest follows them. */
export const MAX_WIRE_DIAGNOSTICS = 10;

/** Longest line of one diagnostic in an ApplySpec error (a long key or value is cut). */
const MAX_DIAGNOSTIC_CHARS = 240;

/**
 * Spec JSON (as ApplySpec carries it) to a compiled spec.
 * @throws GridError SPEC_INVALID (INVALID_ARGUMENT) naming `spec_json`: empty, not JSON, or
 * invalid, with the first {@link MAX_WIRE_DIAGNOSTICS}
 * problems and the count of the rest (a status must stay small whatever the spec).
 */
export function compileSpecJson(specJson: string): CompiledGridSpec {
  if (specJson.trim() === '') throw new GridError('SPEC_INVALID', 'spec_json: is empty', { field: 'spec_json' });
  // The spec parser first: it bounds size and depth and places every problem at spec_json:line:col.
  // It also reads YAML, which ApplySpec does not take: a spec it accepts must still be JSON.
  const result = parseGridSpec(specJson, 'spec_json');
  if (result.ok) {
    try {
      JSON.parse(specJson);
    } catch (err) {
      const why = oneLine((err as Error).message);
      throw new GridError('SPEC_INVALID', `spec_json: is not JSON (${why}); ApplySpec takes the spec as JSON (\`sutra-grid apply FILE\` converts YAML)`, { field: 'spec_json' });
    }
  }
  if (!result.ok) {
    const trimmed = specJson.trimStart();
    if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) {
      // Not meant as JSON at all (raw YAML, say): say so rather than list YAML's own problems.
      throw new GridError('SPEC_INVALID', 'spec_json: is not JSON; ApplySpec takes the spec as JSON (`sutra-grid apply FILE` converts YAML)', { field: 'spec_json' });
    }
    const all = result.diagnostics.filter((d) => d.severity === 'error');
    // The parser lists the first problems and counts the rest in one last diagnostic: keep that count.
    const counted = all.filter((d) => d.code === 'SPEC_MORE_PROBLEMS');
    const errors = all.filter((d) => d.code !== 'SPEC_MORE_PROBLEMS');
    const unlisted = counted.reduce((n, d) => n + Number(/and (\d+) more/.exec(d.message)?.[1] ?? 0), 0);
    const total = errors.length + unlisted;
    const shown = errors.slice(0, MAX_WIRE_DIAGNOSTICS).map((d) => oneLine(formatDiagnostic({ ...d, sourceLine: undefined })));
    const rest = total - shown.length;
    const more = rest > 0 ? `\n... and ${rest} more problem(s); run \`sutra-grid validate FILE\` to see them all` : '';
    throw new GridError('SPEC_INVALID', `spec_json: invalid spec, ${total} problem(s):\n${shown.join('\n')}${more}`, { field: 'spec_json', problems: total });
  }
  return result.compiled;
}

/** One line of at most {@link MAX_DIAGNOSTIC_CHARS} characters. */
function oneLine(text: string): string {
  const flat = text.replace(/\s*\n\s*/g, ' ');
  return flat.length <= MAX_DIAGNOSTIC_CHARS ? flat : `${flat.slice(0, MAX_DIAGNOSTIC_CHARS)}...`;
}
