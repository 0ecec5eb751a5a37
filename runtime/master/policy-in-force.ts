import type { CompiledMonitoring } from '../../schema/index.js';
import type { GridPolicy } from '../common/grid-types.js';
import type { HealthThresholds } from './agent-registry.js';
import type { CompiledMasterOptions } from './master-options.js';

/**
 * The monitoring policy the master enforces and sends to its agents: the applied spec's
 * `monitoring` when a spec is in force, else the master's own flags (heartbeat and health
 * thresholds) and the agents' own configs (restarts).
 */
export interface PolicyInForce extends HealthThresholds {
  /** Spec generation it comes from (0 before any spec; a deleted spec's generation after a delete). */
  readonly generation: number;
  readonly heartbeatIntervalMs: number;
  /** The spec's monitoring; undefined without a spec in force: agents follow their own config. */
  readonly spec: CompiledMonitoring | undefined;
}

/** The applied spec's monitoring and generation, as the declarative half knows it. */
export interface AppliedMonitoring {
  readonly generation: number;
  /** Undefined when no spec is in force (never applied, deleted, or held because it no longer compiles). */
  readonly monitoring: CompiledMonitoring | undefined;
}

/** The spec's thresholds when a spec is in force; the master's flags are the fallback before one exists. */
export function policyInForce(applied: AppliedMonitoring, flags: CompiledMasterOptions): PolicyInForce {
  const m = applied.monitoring;
  if (m === undefined) {
    return { generation: applied.generation, heartbeatIntervalMs: flags.heartbeatIntervalMs, degradedAfterMs: flags.degradedAfterMs, offlineAfterMs: flags.offlineAfterMs, spec: undefined };
  }
  return { generation: applied.generation, heartbeatIntervalMs: m.heartbeatIntervalMs, degradedAfterMs: m.degradedAfterMs, offlineAfterMs: m.offlineAfterMs, spec: m };
}

/**
 * The policy as agents receive it: only what an applied spec says is set, so an agent tells "no
 * spec, use your own config" from a spec's values; and, always, the offlineAfter the master holds
 * agents to, which bounds their leaders' write leases.
 */
export function agentPolicyOf(p: PolicyInForce): GridPolicy {
  if (p.spec === undefined) return { generation: p.generation, offlineAfterMs: p.offlineAfterMs };
  const r = p.spec.restart;
  return {
    generation: p.generation,
    offlineAfterMs: p.offlineAfterMs,
    heartbeatIntervalMs: p.spec.heartbeatIntervalMs,
    maxRestarts: r.maxRestarts,
    restartWindowMs: r.windowMs,
    restartBackoffMs: r.backoffMs,
  };
}

/** One line for the log: what the master enforces now. */
export function describePolicy(p: PolicyInForce): string {
  const source = p.spec !== undefined ? `the spec's (generation ${p.generation})` : "the master's flags (no spec in force)";
  return `monitoring per ${source}: heartbeat every ${p.heartbeatIntervalMs} ms; agents degraded after ${p.degradedAfterMs} ms and offline after ${p.offlineAfterMs} ms of silence`;
}
