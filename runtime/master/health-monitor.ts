import { sleep } from '../../client/transport.js';
import type { AgentRegistry, HealthThresholds, HealthTransition } from './agent-registry.js';

/** Settings of {@link runHealthMonitor}. */
export interface HealthMonitorOptions {
  /**
   * Read on every check, so the thresholds follow the applied spec as it changes; the function it
   * returns gives them for an agent last heard from at a given time.
   */
  readonly thresholds: () => (lastHeartbeatMs: number) => HealthThresholds;
  /** How often agent silence is re-evaluated (ms). Tests use sub-second values. */
  readonly checkIntervalMs: number;
  /** Told about every change, in order. */
  readonly onTransition: (t: HealthTransition) => void;
  /** Clock, injectable for tests. @default Date.now */
  readonly now?: () => number;
}

/**
 * Re-evaluates agent health every `checkIntervalMs` until `signal` aborts. Resolves (never
 * rejects) once stopped, so the daemon can simply await it while draining.
 */
export async function runHealthMonitor(registry: AgentRegistry, opts: HealthMonitorOptions, signal: AbortSignal): Promise<void> {
  const now = opts.now ?? Date.now;
  while (!signal.aborted) {
    try {
      await sleep(opts.checkIntervalMs, signal);
    } catch {
      return;
    }
    for (const t of registry.evaluateHealth(now(), opts.thresholds())) opts.onTransition(t);
  }
}
