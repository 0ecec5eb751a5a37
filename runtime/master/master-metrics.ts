import type { PlanOp } from '../../plan/index.js';

/**
 * What the master measures as it works, told to whoever keeps the numbers (the HTTP layer's
 * Prometheus registry, runtime/http/metrics.ts). The master itself keeps none and imports no
 * metrics library: every callback is optional, is called synchronously where the fact happens, and
 * must not throw. Durations are seconds, Prometheus' base unit.
 */
export interface MasterMetrics {
  /** A spawn or stop through {@link NodeOperations} finished (imperative or the reconciler's). */
  nodeOperation?(e: { op: 'spawn' | 'stop'; seconds: number; ok: boolean }): void;
  /** A heartbeat arrived `intervalSeconds` after the agent's previous one (or its registration). */
  heartbeat?(e: { agentId: string; intervalSeconds: number }): void;
  /** A reconcile pass was planned and its actions queued, in `seconds`. */
  reconcilePass?(e: { seconds: number; actions: number }): void;
  /** One reconcile action ended. */
  reconcileAction?(e: { op: PlanOp; ok: boolean }): void;
  /** The event store took (or failed to take) one batch of `events` in `seconds`. */
  eventWrite?(e: { seconds: number; events: number; ok: boolean }): void;
}

/** Seconds since `startNs` (a `process.hrtime.bigint()` reading). */
export function secondsSince(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e9;
}

/** Calls one optional metrics callback; a throwing one is ignored (numbers must never break the master). */
export function observe<K extends keyof MasterMetrics>(metrics: MasterMetrics | undefined, name: K, e: Parameters<NonNullable<MasterMetrics[K]>>[0]): void {
  const fn = metrics?.[name] as ((p: typeof e) => void) | undefined;
  if (fn === undefined) return;
  try {
    fn.call(metrics, e);
  } catch {
    // a metrics bug must not fail a spawn or a heartbeat
  }
}
