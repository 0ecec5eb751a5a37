import type { CompiledGridSpec } from '../../../schema/index.js';
import type { PlanSummary } from '../../../plan/index.js';
import { GridError, RuntimeError } from '../../errors.js';
import { quote } from '../../common/grpc-edge.js';
import { NO_SPEC, type SpecStore, type StoredCordon, type StoredSpec } from '../spec-store.js';
import type { DesiredState } from './reconciler.js';
import type { SpecJobResult } from './spec-job.js';

/** Turns spec JSON into a compiled spec, or throws GridError SPEC_INVALID listing every problem. */
export type SpecCompiler = (specJson: string) => CompiledGridSpec;

/**
 * Compiles spec JSON and plans it against the live grid (dry-run and apply both show this plan),
 * off the event loop (spec-worker.ts); with `keep`, returns the compiled spec and its canonical
 * JSON too. Rejects with GridError SPEC_INVALID listing the spec's problems.
 */
export type SpecWork = (specJson: string, keep: boolean) => Promise<SpecJobResult>;

export interface ApplyResult {
  readonly summary: PlanSummary;
  /** The plan, as the bytes of the wire's Plan message (spec-job.ts). */
  readonly encodedPlan: Uint8Array;
  /** The generation in force after the call. */
  readonly generation: number;
  /** True when the stored spec changed (never on dry-run). */
  readonly changed: boolean;
  /** When `changed`: the spec in force before (undefined when none was), to tell what the change did. */
  readonly previous?: CompiledGridSpec | undefined;
}

/**
 * The applied spec and its generation, behind one lock: applies are serialized, so of two applies
 * that expect the same generation exactly one wins (Nomad's `-check-index`).
 */
export class DesiredStateManager {
  private stored: StoredSpec = NO_SPEC;
  private compiled: CompiledGridSpec | undefined;
  private lock: Promise<unknown> = Promise.resolve();
  private resumedValue = false;
  /** Set when the store refused or could not confirm a write: read it again before the next change. */
  private stale = false;

  constructor(
    private readonly store: SpecStore,
    private readonly compile: SpecCompiler,
    private readonly onChange: () => void = () => undefined,
  ) {}

  /**
   * Loads the stored spec (after a restart) and compiles it. A stored spec that is intact but no
   * longer compiles (stored by an older master, before a limit it breaks) is held, not enforced:
   * GetSpec still shows it, nothing is reconciled (running nodes are left as they are), and the
   * next apply replaces it. Returns why it is held, or undefined.
   */
  async init(): Promise<string | undefined> {
    const loaded = await this.store.load();
    if (loaded === undefined) return undefined;
    this.stored = loaded;
    if (loaded.specJson === '') return undefined;
    try {
      this.compiled = this.compile(loaded.specJson);
    } catch (err) {
      this.compiled = undefined;
      return (err as Error).message.split('\n').map((l) => l.trim()).filter((l) => l !== '').slice(0, 2).join(' ').slice(0, 300);
    }
    this.resumedValue = true;
    return undefined;
  }

  /** {@link init} again, after the applies in progress: the store may have been changed by another master. */
  reload(): Promise<string | undefined> {
    return this.exclusive(async () => {
      const held = await this.init();
      this.onChange();
      return held;
    });
  }

  /** True when {@link init} loaded a spec: nodes of it may already run on agents not yet heard from. */
  get resumed(): boolean {
    return this.resumedValue;
  }

  /** What the reconciler converges to; a deleted spec keeps its agents and declares no cluster. */
  desired(): DesiredState | undefined {
    if (this.compiled === undefined) return undefined;
    const spec = this.stored.deleted === true ? { ...this.compiled, clusters: [] } : this.compiled;
    return { spec, generation: this.stored.generation, leaders: this.stored.leaders, terms: this.stored.terms ?? {} };
  }

  /**
   * The applied spec's monitoring and generation: undefined monitoring when no spec is in force
   * (none applied, deleted, or held because it no longer compiles), so the flags and the agents'
   * own configs apply.
   */
  monitoring(): { generation: number; monitoring: CompiledGridSpec['monitoring'] | undefined } {
    const inForce = this.compiled !== undefined && this.stored.deleted !== true;
    return { generation: this.stored.generation, monitoring: inForce ? this.compiled?.monitoring : undefined };
  }

  /** The applied spec as GetSpec reports it. */
  current(): { specJson: string; generation: number; appliedAtMs: number } {
    const s = this.stored;
    return { specJson: s.deleted === true ? '' : s.specJson, generation: s.generation, appliedAtMs: s.appliedAtMs };
  }

  /** Validates, plans and, unless `dryRun`, stores `specJson`. */
  apply(specJson: string, expectedGeneration: number | undefined, dryRun: boolean, work: SpecWork): Promise<ApplyResult> {
    return this.exclusive(async () => {
      const { summary, encodedPlan, compiled, canonical } = await work(specJson, !dryRun);
      const result = { summary, encodedPlan };
      if (dryRun) return { ...result, generation: this.stored.generation, changed: false };
      if (compiled === undefined || canonical === undefined) throw new RuntimeError('INTERNAL', 'spec work returned no compiled spec to store');
      this.checkGeneration(expectedGeneration);
      if (this.stored.deleted !== true && canonical === this.stored.specJson) {
        return { ...result, generation: this.stored.generation, changed: false };
      }
      const leaders = this.stored.deleted === true ? {} : keepDeclared(this.stored.leaders, compiled);
      const previous = this.inForce();
      const { terms, cordons, good } = this.stored;
      await this.save({ specJson: canonical, generation: this.stored.generation + 1, appliedAtMs: Date.now(), leaders, terms, cordons, ...(good ? { good } : {}) }, compiled);
      return { ...result, generation: this.stored.generation, changed: true, previous };
    });
  }

  /**
   * Removes the applied spec: the reconciler then stops every declared node. `gridName`, when not
   * empty, must be the applied grid's name (checked under the lock, like the generation).
   */
  delete(expectedGeneration: number | undefined, gridName = ''): Promise<number> {
    return this.exclusive(async () => {
      this.checkGeneration(expectedGeneration);
      if (this.compiled === undefined || this.stored.deleted === true) return this.stored.generation;
      if (gridName !== '' && gridName !== this.compiled.name) {
        throw new RuntimeError('STALE_GENERATION', `grid_name: the applied grid is ${JSON.stringify(this.compiled.name)}, not ${quote(gridName)}; nothing deleted`, {
          field: 'grid_name',
        });
      }
      await this.save({ ...this.stored, generation: this.stored.generation + 1, appliedAtMs: Date.now(), leaders: {}, deleted: true }, this.compiled);
      return this.stored.generation;
    });
  }

  /**
   * Records that the grid reached `generation`: its spec becomes the one a failed rollout reverts
   * to. Ignored when a newer spec was applied meanwhile.
   */
  markGood(generation: number): Promise<void> {
    return this.exclusive(async () => {
      const s = this.stored;
      if (this.compiled === undefined || s.deleted === true || s.generation !== generation || s.good?.generation === generation) return;
      await this.save({ ...s, good: { specJson: s.specJson, generation } }, this.compiled);
    });
  }

  /** The last spec the grid fully reached (see {@link markGood}), if any. */
  good(): { specJson: string; generation: number } | undefined {
    return this.stored.deleted === true ? undefined : this.stored.good;
  }

  /**
   * Durably records a promotion, and the term the leader leads when given (terms only rise: a
   * lower one is ignored).
   */
  setLeader(cluster: string, nodeId: string, term?: number): Promise<void> {
    return this.exclusive(async () => {
      const terms = this.stored.terms ?? {};
      const newTerm = term !== undefined && term > (terms[cluster] ?? 0);
      if (this.compiled === undefined || (this.stored.leaders[cluster] === nodeId && !newTerm)) return;
      await this.save({ ...this.stored, leaders: { ...this.stored.leaders, [cluster]: nodeId }, ...(newTerm ? { terms: { ...terms, [cluster]: term } } : {}) }, this.compiled);
    });
  }

  /** The applied spec in force: undefined when none was applied, it was deleted, or it is held. */
  inForce(): CompiledGridSpec | undefined {
    return this.stored.deleted === true ? undefined : this.compiled;
  }

  /** The operator's cordons, by agent id (see `StoredSpec.cordons`). */
  cordons(): Readonly<Record<string, StoredCordon>> {
    return this.stored.cordons ?? {};
  }

  /**
   * Durably sets the operator's cordon of `agentId`, or removes it when `cordon` is undefined.
   * Resolves false when that changed nothing (the same reason and drain deadline again, or no
   * cordon to remove). The reconciler is triggered, so an uncordoned agent takes waiting nodes at
   * once and a drained one's nodes start to move.
   */
  setCordon(agentId: string, cordon: StoredCordon | undefined): Promise<boolean> {
    return this.exclusive(async () => {
      const { [agentId]: before, ...others } = this.stored.cordons ?? {};
      if (before === undefined && cordon === undefined) return false;
      if (before !== undefined && cordon !== undefined && before.reason === cordon.reason && before.drainDeadlineMs === cordon.drainDeadlineMs) return false;
      const cordons = cordon === undefined ? others : { ...others, [agentId]: cordon };
      await this.save({ ...this.stored, cordons }, this.compiled);
      return true;
    });
  }

  private checkGeneration(expected: number | undefined): void {
    if (expected !== undefined && expected !== this.stored.generation) {
      throw new RuntimeError(
        'STALE_GENERATION',
        `expected_generation ${expected} is stale: the applied spec is at generation ${this.stored.generation}; re-plan and apply again`,
        { field: 'expected_generation', expected, current: this.stored.generation },
      );
    }
  }

  private async save(next: StoredSpec, compiled: CompiledGridSpec | undefined): Promise<void> {
    try {
      await this.store.save(next);
    } catch (err) {
      // A shared store (etcd) refused or could not confirm the write: what it holds is unknown
      // here until read again, before the next change is checked against it.
      if (err instanceof GridError && STORE_CHANGED.has(err.code)) this.stale = true;
      throw err;
    }
    this.stored = next;
    this.compiled = compiled;
    this.onChange();
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const reloadFirst = async (): Promise<T> => {
      if (this.stale) {
        await this.init();
        this.stale = false;
        this.onChange();
      }
      return fn();
    };
    const run = this.lock.then(reloadFirst, reloadFirst);
    this.lock = run.catch(() => undefined);
    return run;
  }
}

/** Store refusals after which the stored state may differ from what this master holds. */
const STORE_CHANGED: ReadonlySet<string> = new Set(['STALE_GENERATION', 'QUORUM_UNAVAILABLE', 'MASTER_NOT_LEADER']);

/** Leaders of clusters that are still declared as leader-replicas. */
function keepDeclared(leaders: Readonly<Record<string, string>>, spec: CompiledGridSpec): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of spec.clusters) {
    const leader = leaders[c.name];
    if (c.topology === 'leader-replicas' && leader !== undefined) out[c.name] = leader;
  }
  return out;
}
