import { recoverySummary, type EventBus, type EventInput } from '../events/index.js';
import type { Logger } from '../common/logger.js';
import type { DeclarativeEvents } from './declarative.js';
import type { MasterEvents } from './master-events.js';
import type { SpecRecovery } from './spec-store.js';
import type { Leadership, SharedEventStore } from './leadership.js';

/**
 * The master's lifecycle hooks as events. Spawn and stop successes are not emitted here: the agent
 * that ran them reports SpawnSucceeded/StopSucceeded itself (with pid, port and duration), and one
 * fact must not be recorded twice.
 */
export function masterEventsToBus(bus: EventBus): MasterEvents {
  const emit = (e: EventInput): void => void bus.emit(e);
  return {
    agentRegistered: (e) => emit({ type: 'AgentRegistered', agentId: e.agentId, payload: { hostname: e.hostname ?? '', platform: e.platform, address: e.address } }),
    agentHeartbeat: (e) => emit({ type: 'AgentHeartbeat', agentId: e.agentId, payload: { nodeCount: e.nodes } }),
    agentDegraded: (e) => emit({ type: 'AgentDegraded', agentId: e.agentId, payload: { sinceHeartbeatMs: e.silentForMs } }),
    agentOffline: (e) => emit({ type: 'AgentOffline', agentId: e.agentId, payload: { sinceHeartbeatMs: e.silentForMs } }),
    agentRecovered: (e) => emit({ type: 'AgentRecovered', agentId: e.agentId, payload: { downForMs: e.silentForMs } }),
    agentUnregistered: (e) => emit({ type: 'AgentUnregistered', agentId: e.agentId, payload: { reason: 'agent unregistered' } }),
    spawnRequested: (e) => emit({ type: 'SpawnRequested', agentId: e.agentId, nodeId: e.nodeId, cluster: e.cluster, payload: e.port > 0 ? { port: e.port } : {} }),
    spawnFailed: (e) => emit({ type: 'SpawnFailed', agentId: e.agentId, nodeId: e.nodeId, cluster: e.cluster, payload: { reason: e.message } }),
    stopRequested: (e) => emit({ type: 'StopRequested', agentId: e.agentId, nodeId: e.nodeId, cluster: e.cluster, payload: {} }),
    stopFailed: (e) => emit({ type: 'StopFailed', agentId: e.agentId, nodeId: e.nodeId, cluster: e.cluster, payload: { reason: e.message } }),
  };
}

/** The declarative layer's facts as events. */
export function declarativeEventsToBus(bus: EventBus): DeclarativeEvents {
  const emit = (e: EventInput): void => void bus.emit(e);
  let term = 0;
  return {
    specApplied: (e) =>
      emit({ type: 'SpecApplied', payload: { generation: e.generation, nodes: e.plan.summary.create + e.plan.summary.unchanged + e.plan.summary.replace + e.plan.summary.update } }),
    nodeReplaced: (e) =>
      emit({ type: 'NodeReplaced', agentId: e.toAgentId, nodeId: e.nodeId, cluster: e.cluster, payload: { oldNodeId: e.nodeId, reason: `${e.reason} (from ${e.fromAgentId || 'unknown agent'})` } }),
    // The master's recorded term; a counter only for a reconciler host that keeps none.
    leaderChanged: (e) => emit({ type: 'LeaderChanged', nodeId: e.nodeId, cluster: e.cluster, payload: { leaderId: e.nodeId, term: e.term ?? ++term } }),
    nodeRestarted: (e) =>
      emit({
        type: 'NodeRestarted',
        agentId: e.node.agentId,
        nodeId: e.node.nodeId,
        cluster: e.node.cluster,
        payload: { restartCount: e.node.restarts, newPid: e.node.pid, reason: `restarted by an operator${e.handedOverTo !== '' ? ` after handing leadership over to ${e.handedOverTo}` : ''}` },
      }),
    placementFailed: (e) => emit({ type: 'PlacementFailed', cluster: e.cluster, payload: { reason: e.reason, group: e.cluster } }),
    roleChanged: (e) =>
      emit({ type: 'RoleChanged', agentId: e.agentId, nodeId: e.nodeId, cluster: e.cluster, payload: { role: e.role, term: e.term, ...(e.leader !== '' ? { leader: e.leader } : {}) } }),
    catchUpStarted: (e) =>
      emit({ type: 'CatchUpStarted', agentId: e.agentId, nodeId: e.nodeId, cluster: e.cluster, payload: { logPosition: e.logPosition, leaderLogPosition: e.leaderLogPosition } }),
    catchUpDone: (e) => emit({ type: 'CatchUpDone', agentId: e.agentId, nodeId: e.nodeId, cluster: e.cluster, payload: { logPosition: e.logPosition, durationMs: e.durationMs } }),
    replicationLagging: (e) =>
      emit({
        type: 'ReplicationLagging',
        agentId: e.agentId,
        nodeId: e.nodeId,
        cluster: e.cluster,
        payload: { lagRecords: e.lagRecords, logPosition: e.logPosition, leaderLogPosition: e.leaderLogPosition },
      }),
    rolloutStepStarted: (e) =>
      emit({ type: 'RolloutStepStarted', agentId: e.agentId, nodeId: e.nodeId, cluster: e.cluster, payload: { generation: e.generation, step: e.step } }),
    rolloutStepDone: (e) =>
      emit({ type: 'RolloutStepDone', agentId: e.agentId, nodeId: e.nodeId, cluster: e.cluster, payload: { generation: e.generation, step: e.step, durationMs: e.durationMs } }),
    rolloutDone: (e) => emit({ type: 'RolloutDone', cluster: e.cluster, payload: { generation: e.generation, nodes: e.nodes, durationMs: e.durationMs } }),
    rolloutFailed: (e) =>
      emit({ type: 'RolloutFailed', nodeId: e.nodeId, cluster: e.cluster, payload: { generation: e.generation, reason: e.reason, autoRevert: e.autoRevert } }),
    rolloutReverted: (e) =>
      emit({ type: 'RolloutReverted', cluster: e.cluster, payload: { fromGeneration: e.fromGeneration, toGeneration: e.toGeneration, goodGeneration: e.goodGeneration, reason: e.reason } }),
    agentCordoned: (e) => emit({ type: 'AgentCordoned', agentId: e.agentId, payload: { by: e.by, reason: e.reason } }),
    agentUncordoned: (e) => emit({ type: 'AgentUncordoned', agentId: e.agentId, payload: { by: e.by, stillCordoned: e.stillCordoned } }),
    agentDrainStarted: (e) => emit({ type: 'AgentDrainStarted', agentId: e.agentId, payload: { deadlineMs: e.deadlineMs, reason: e.reason } }),
    agentDrained: (e) => emit({ type: 'AgentDrained', agentId: e.agentId, payload: { durationMs: e.durationMs } }),
    clusterHealthChanged: (e) => {
      const counts = { healthyNodes: e.running, totalNodes: e.desired };
      if (e.health === 'healthy') emit({ type: 'ClusterHealthy', cluster: e.cluster, payload: counts });
      else if (e.health === 'degraded') emit({ type: 'ClusterDegraded', cluster: e.cluster, payload: { ...counts, reason: `${e.running} of ${e.desired} nodes running` } });
      else emit({ type: 'ClusterCritical', cluster: e.cluster, payload: { ...counts, reason: e.running === 0 ? 'no node running' : 'no leader running' } });
    },
  };
}

/**
 * Logs what the event log's recovery found on open, when it found damage (the bus has already
 * emitted EventLogRecovered): the counts, and one line per damaged file with its byte offsets.
 */
export function logEventLogRecovery(bus: EventBus, logger: Logger): void {
  const r = bus.recoveryReport;
  if (r === undefined) return;
  logger.error(
    { damagedSegments: r.damagedSegments, recoveredRecords: r.recoveredRecords, lostIndexes: r.lostIndexes, highWaterMark: r.highWaterMark, nextIndex: r.nextIndex, details: r.details },
    `event log was damaged and recovered: ${recoverySummary(r)}`,
  );
  for (const line of r.details) logger.error(`event log recovery: ${line}`);
}

/** A damaged spec.json the master started past: logged and recorded as SpecRecovered. */
export function specRecoveryToBus(bus: EventBus, logger: Logger): (r: SpecRecovery) => void {
  return (r) => {
    const kept = r.damagedCopy !== '' ? `; the damaged file is kept as ${r.damagedCopy}` : '';
    logger.error(
      { file: r.file, problem: r.problem, fallback: r.fallback, generation: r.generation, damagedCopy: r.damagedCopy },
      `stored spec ${r.file} ${r.problem}; starting from its last good copy ${r.fallback} as generation ${r.generation}${kept}`,
    );
    bus.emit({ type: 'SpecRecovered', payload: { file: r.file, problem: r.problem, fallback: r.fallback, generation: r.generation } });
  };
}

/**
 * Event store health for GetClusterStatus: a write failing now, else damage found on open (it
 * stays reported until the next start, so `status` shows that events were lost).
 */
export function eventStoreHealth(bus: EventBus): { dropped: number; storeError: string | null } {
  const s = bus.stats();
  return { dropped: s.dropped, storeError: s.storeError ?? (s.recovery !== null ? `damaged on disk, recovered at start: ${s.recovery}` : null) };
}

/**
 * Several masters, one shared event log: the master that starts leading reads the log's end and
 * its bus continues after it (its pending events renumbered), so an index never repeats nor
 * skips across a failover; a master that stops leading drops what it had pending (a deposed
 * leader's appends are fenced off anyway). A failed take-over is retried while this master leads.
 */
export function followLeadership(leadership: Leadership, shared: SharedEventStore, bus: EventBus, logger: Logger): void {
  let term = 0;
  leadership.onChange((leading) => {
    const mine = ++term;
    if (!leading) {
      shared.stepDown();
      void bus.rebase(false).then((n) => {
        if (n > 0) logger.warn({ dropped: n }, `${n} events this master had not written yet were dropped: it no longer leads`);
      });
      return;
    }
    void (async () => {
      for (let delay = 100; mine === term && leadership.isLeader(); delay = Math.min(2000, delay * 2)) {
        try {
          await shared.takeOver();
          if (mine !== term) {
            shared.stepDown(); // stepped down while taking over
            return;
          }
          await bus.rebase(true);
          logger.info({ lastIndex: shared.lastIndex }, `this master writes the shared event log from index ${shared.lastIndex + 1}`);
          return;
        } catch (err) {
          logger.warn({ err: (err as Error).message }, 'could not take over the shared event log; retrying');
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    })();
  });
}
