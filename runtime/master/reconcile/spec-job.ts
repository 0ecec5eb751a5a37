/**
 * The CPU-heavy half of an ApplySpec, as one pure function: parse, validate and compile the spec,
 * plan it against a snapshot of the live grid, and encode the plan for the wire. At the spec
 * limits this costs up to a second or two (a 150,000-node plan), so the master runs it in its spec
 * worker (spec-worker.ts), never on the event loop that serves heartbeats.
 */
import { canonicalJson, type CompiledGridSpec } from '../../../schema/index.js';
import { planGrid, type LiveState, type PlanSummary } from '../../../plan/index.js';
import { encodePlan } from '../../../client/index.js';
import { GridError, type ErrorContext, type RuntimeErrorCode, RuntimeError } from '../../errors.js';
import { parseSpecJson } from './compile-spec.js';

/** One ApplySpec's spec work; plain data, so it crosses to the worker by structured clone. */
export interface SpecJob {
  readonly specJson: string;
  /** The grid the plan is made against, as the master saw it when the job started. */
  readonly live: LiveState;
  /**
   * True when the caller stores the spec (not a dry run): the compiled spec and its canonical
   * text come back too. A dry run skips them, as copying a large compiled spec back costs the
   * event loop tens of milliseconds.
   */
  readonly keep: boolean;
}

/** What a {@link SpecJob} produces; plain data (strings, numbers, arrays, objects). */
export interface SpecJobResult {
  readonly summary: PlanSummary;
  /**
   * The plan ApplySpec returns, encoded here: at the spec limits it is tens of MB, which the
   * master's event loop only forwards (see encoded-plan.ts).
   */
  readonly encodedPlan: Uint8Array;
  /** Set when the job was a `keep` job. */
  readonly compiled?: CompiledGridSpec;
  /** The spec's canonical JSON (what is stored and compared); set when the job was a `keep` job. */
  readonly canonical?: string;
}

/** An error as it crosses a thread boundary: a GridError keeps its code and context. */
export type SerializedError =
  | { readonly kind: 'grid'; readonly code: RuntimeErrorCode; readonly message: string; readonly context: ErrorContext }
  | { readonly kind: 'other'; readonly message: string };

/**
 * Runs a job. @throws GridError SPEC_INVALID with the diagnostics of {@link parseSpecJson};
 * a plan engine error as it is thrown.
 */
export function runSpecJob(job: SpecJob): SpecJobResult {
  // Parsed once: the same value is compiled and, when kept, stored in canonical form.
  const { spec, compiled } = parseSpecJson(job.specJson);
  const plan = planGrid(compiled, job.live);
  const out = { summary: plan.summary, encodedPlan: encodePlan(plan) };
  return job.keep ? { ...out, compiled, canonical: canonicalJson(spec) } : out;
}

/** `err` as plain data; {@link deserializeError} rebuilds it with the same code and message. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof GridError) {
    // Contexts of spec errors hold strings and numbers; anything else is dropped rather than
    // failing the clone.
    const context = Object.fromEntries(Object.entries(err.context).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v)));
    return { kind: 'grid', code: err.code, message: err.message, context };
  }
  return { kind: 'other', message: err instanceof Error ? err.message : String(err) };
}

/** The error {@link serializeError} described: a GridError again, or an Error with the same message. */
export function deserializeError(e: SerializedError): Error {
  return e.kind === 'grid' ? new RuntimeError(e.code, e.message, e.context) : new Error(e.message);
}
