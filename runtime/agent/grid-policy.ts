// units.js, not the schema barrel: an agent does not need the spec parser (ajv, yaml) in memory.
import { formatDuration } from '../../schema/units.js';
import type { GridPolicy } from '../common/grid-types.js';
import type { RestartPolicyOptions } from './restart-policy.js';

/** The policy an agent follows: the grid's values over its own config. */
export interface EffectivePolicy {
  readonly heartbeatIntervalMs: number;
  readonly restart: RestartPolicyOptions;
}

/** True when the grid's policy sets no value of the agent's config (offlineAfter is the master's own): the agent's own config applies. */
export function isOwnConfig(p: GridPolicy): boolean {
  return p.heartbeatIntervalMs === undefined && p.maxRestarts === undefined && p.restartWindowMs === undefined && p.restartBackoffMs === undefined;
}

/** Same values (the generation aside): a new generation with them changes nothing. */
export function sameValues(a: GridPolicy, b: GridPolicy): boolean {
  return a.heartbeatIntervalMs === b.heartbeatIntervalMs && a.maxRestarts === b.maxRestarts && a.restartWindowMs === b.restartWindowMs && a.restartBackoffMs === b.restartBackoffMs;
}

/**
 * The grid's values over the agent's own. Restarts stay disabled when the agent's config disables
 * them (the spec has no such switch), and the backoff cap never falls below the spec's first delay.
 */
export function resolvePolicy(grid: GridPolicy, own: EffectivePolicy): EffectivePolicy {
  const backoffMs = grid.restartBackoffMs ?? own.restart.backoffMs;
  return {
    heartbeatIntervalMs: grid.heartbeatIntervalMs ?? own.heartbeatIntervalMs,
    restart: {
      enabled: own.restart.enabled,
      maxRestarts: grid.maxRestarts ?? own.restart.maxRestarts,
      windowMs: grid.restartWindowMs ?? own.restart.windowMs,
      backoffMs,
      backoffMaxMs: Math.max(own.restart.backoffMaxMs, backoffMs),
    },
  };
}

/** "heartbeat 1s, restarts 3 in 1m, backoff 200ms", for the log. */
export function describeEffectivePolicy(p: EffectivePolicy): string {
  const r = p.restart;
  const restarts = r.enabled ? `restarts ${r.maxRestarts} in ${formatDuration(r.windowMs)}, backoff ${formatDuration(r.backoffMs)}` : 'restarts disabled (restart_failed_nodes = false)';
  return `heartbeat ${formatDuration(p.heartbeatIntervalMs)}, ${restarts}`;
}
