import type { AgentHealth } from '../../plan/index.js';
import type { NodeView } from '../common/grid-types.js';

/** Agent health as the master sees it. `recovered` is a transition, not a state: it lands in `healthy`. */
export type { AgentHealth } from '../../plan/index.js';

/**
 * The master's internal hook for lifecycle facts. The master calls these synchronously at the
 * moment each fact happens; the event bus (runtime/events) plugs in here. Every callback is
 * optional and must not throw (a throwing listener is logged and ignored by the master).
 */
export interface MasterEvents {
  agentRegistered?(e: { agentId: string; hostname?: string; address: string; platform: string; reregistered: boolean; nodes: number }): void;
  agentDegraded?(e: { agentId: string; silentForMs: number }): void;
  agentOffline?(e: { agentId: string; silentForMs: number }): void;
  agentRecovered?(e: { agentId: string; previous: AgentHealth; silentForMs: number }): void;
  agentHeartbeat?(e: { agentId: string; nodes: number }): void;
  agentUnregistered?(e: { agentId: string }): void;
  spawnRequested?(e: { agentId: string; nodeId: string; port: number; cluster?: string }): void;
  spawnSucceeded?(e: { agentId: string; node: NodeView }): void;
  spawnFailed?(e: { agentId: string; nodeId: string; cluster?: string; code: number; message: string }): void;
  stopRequested?(e: { agentId: string; nodeId: string; cluster?: string }): void;
  stopSucceeded?(e: { agentId: string; node: NodeView }): void;
  stopFailed?(e: { agentId: string; nodeId: string; cluster?: string; code: number; message: string }): void;
}

/** Calls one optional listener, never letting it break the master. */
export function emitSafely<K extends keyof MasterEvents>(
  events: MasterEvents,
  name: K,
  payload: Parameters<NonNullable<MasterEvents[K]>>[0],
  onError: (err: unknown) => void,
): void {
  const fn = events[name] as ((p: typeof payload) => void) | undefined;
  if (fn === undefined) return;
  try {
    fn.call(events, payload);
  } catch (err) {
    onError(err);
  }
}
