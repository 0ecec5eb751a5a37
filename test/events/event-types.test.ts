import { describe, expect, it } from 'vitest';
import {
  EVENT_TYPES,
  defaultSeverity,
  eventsFromReport,
  formatEventLine,
  formatEventMessage,
  fromProtoEvent,
  isoMicros,
  toProtoEvent,
  toProtoWatchItem,
  validatePayload,
  type EventPayloads,
  type EventType,
  type GridEvent,
} from '../../runtime/events/index.js';

/** One valid payload per type: the table is exhaustive, so adding a type without one fails to compile. */
const SAMPLES: { [K in EventType]: EventPayloads[K] } = {
  AgentRegistered: { hostname: 'h1', platform: 'process', address: '127.0.0.1:7001' },
  AgentHeartbeat: { nodeCount: 3 },
  AgentDegraded: { sinceHeartbeatMs: 15000 },
  AgentOffline: { sinceHeartbeatMs: 60000 },
  AgentRecovered: { downForMs: 70000 },
  AgentUnregistered: { reason: 'shutdown' },
  AgentCordoned: { by: 'operator', reason: 'kernel upgrade' },
  AgentUncordoned: { by: 'operator', stillCordoned: false },
  AgentDrainStarted: { deadlineMs: 1_764_149_700_000, reason: 'hardware swap' },
  AgentDrained: { durationMs: 42_000 },
  SpawnRequested: { port: 50051 },
  SpawnSucceeded: { pid: 4242, port: 50051, durationMs: 120 },
  SpawnFailed: { reason: 'port in use' },
  StopRequested: {},
  StopSucceeded: { durationMs: 30 },
  StopFailed: { reason: 'timeout' },
  NodeCrashed: { signal: 'SIGKILL' },
  NodeRestarted: { restartCount: 2, newPid: 4343 },
  ClusterHealthy: { healthyNodes: 3, totalNodes: 3 },
  ClusterDegraded: { healthyNodes: 2, totalNodes: 3, reason: 'n3 down' },
  ClusterCritical: { healthyNodes: 0, totalNodes: 3 },
  SpecApplied: { generation: 7, nodes: 3 },
  NodeReplaced: { oldNodeId: 'n1', reason: 'agent offline' },
  NodeFailed: { reason: 'restart budget exhausted', restartCount: 5 },
  NodePortMoved: { fromPort: 50051, toPort: 50052, reason: 'port 50051 taken by another process' },
  LeaderChanged: { leaderId: 'n2', term: 4 },
  PlacementFailed: { reason: 'no eligible agent', group: 'main' },
  EventStoreRecovered: { dropped: 0, downForMs: 2000, error: 'ENOSPC' },
  EventLogRecovered: { damagedFiles: 1, recoveredRecords: 44, lostIndexes: 1, nextIndex: 101, report: 'seg-1.log: 1 bad record' },
  SpecRecovered: { file: '/d/spec.json', problem: 'is empty', fallback: '/d/spec.json.prev', generation: 5 },
  RoleChanged: { role: 'replica', term: 3, leader: '10.0.0.1:50051' },
  CatchUpStarted: { logPosition: 0, leaderLogPosition: 10000 },
  CatchUpDone: { logPosition: 10000, durationMs: 1800 },
  ReplicationLagging: { lagRecords: 2500, logPosition: 7500, leaderLogPosition: 10000 },
  RolloutStepStarted: { generation: 4, step: 1 },
  RolloutStepDone: { generation: 4, step: 1, durationMs: 10400 },
  RolloutDone: { generation: 4, nodes: 3, durationMs: 35000 },
  RolloutFailed: { generation: 4, reason: 'kg-1 was not healthy for 10s within 5m of its restart (step 1)', autoRevert: true },
  RolloutReverted: { fromGeneration: 4, toGeneration: 5, goodGeneration: 3, reason: 'kg-1 was not healthy' },
};

function sample<K extends EventType>(type: K, index = 1): GridEvent {
  return {
    index, timestampUs: 1_764_149_400_123_456, type, severity: defaultSeverity(type),
    agentId: 'a1', nodeId: 'n1', cluster: 'main', payload: SAMPLES[type], count: 1, lastSeenUs: 1_764_149_400_123_456,
  } as GridEvent;
}

describe('event types', () => {
  it('has the 17 seed types, the 5 declarative ones, the store warning, the port move, the two damage reports, the 4 of replication, the 2 of cordons, the 2 of drains and the 5 of rollouts', () => {
    expect(EVENT_TYPES).toHaveLength(39);
    expect(defaultSeverity('EventLogRecovered')).toBe('error');
    expect(defaultSeverity('NodeCrashed')).toBe('error');
    expect(defaultSeverity('AgentDegraded')).toBe('warning');
    expect(defaultSeverity('SpawnSucceeded')).toBe('info');
  });

  it('formats a one-line message for every type', () => {
    for (const type of EVENT_TYPES) {
      const msg = formatEventMessage(sample(type));
      expect(msg, type).not.toMatch(/undefined|\n/);
      expect(msg.length, type).toBeGreaterThan(10);
    }
    expect(formatEventMessage(sample('NodeCrashed'))).toBe('node n1 on agent a1 crashed (signal SIGKILL)');
    expect(formatEventLine({ ...sample('AgentHeartbeat', 9), count: 12, lastSeenUs: 1_764_149_460_000_001 })).toBe(
      '2025-11-26T09:30:00.123456Z #9 info AgentHeartbeat agent a1 heartbeat (3 nodes) [x12, last 2025-11-26T09:31:00.000001Z]',
    );
    expect(isoMicros(1_000_007)).toBe('1970-01-01T00:00:01.000007Z');
  });

  it('validates payloads, collecting every problem and naming the first field', () => {
    for (const type of EVENT_TYPES) expect(() => validatePayload(type, SAMPLES[type])).not.toThrow();
    expect(() => validatePayload('NodeRestarted', { restartCount: 'two', extra: 1 })).toThrow(
      expect.objectContaining({ code: 'EVENTS_INVALID_EVENT', field: 'payload.restartCount', message: expect.stringMatching(/newPid.*extra|extra.*newPid/s) }),
    );
    expect(() => validatePayload('NodeCrashed', {})).toThrow(expect.objectContaining({ field: 'payload.exitCode' }));
    expect(() => validatePayload('NodeCrashed', { exitCode: 1, signal: 'SIGTERM' })).toThrow(/exactly one/);
    expect(() => validatePayload('SpawnFailed', [])).toThrow(expect.objectContaining({ field: 'payload' }));
  });
});

describe('proto boundary', () => {
  it('round-trips every type through the wire Event', () => {
    for (const type of EVENT_TYPES) {
      const e = sample(type, 3);
      const pe = toProtoEvent(e);
      expect(pe).toMatchObject({ index: 3, type, severity: e.severity, agentId: 'a1', count: 1, message: formatEventMessage(e) });
      expect(fromProtoEvent(pe)).toEqual({ type, payload: SAMPLES[type], agentId: 'a1', nodeId: 'n1', cluster: 'main', severity: e.severity });
    }
  });

  it('takes the reporting agent as authoritative and names the bad event field', () => {
    const good = { ...toProtoEvent(sample('NodeRestarted')), agentId: 'spoofed' };
    expect(eventsFromReport({ agentId: 'a9', events: [good] })[0]).toMatchObject({ agentId: 'a9', type: 'NodeRestarted' });
    const badType = { ...good, type: 'NodeExploded' };
    const badJson = { ...good, payloadJson: '{nope' };
    const badField = { ...good, payloadJson: '{"restartCount":1}' };
    expect(() => eventsFromReport({ agentId: 'a9', events: [good, badType, badJson, badField] })).toThrow(
      expect.objectContaining({ code: 'EVENTS_INVALID_EVENT', field: 'events[1].type', message: expect.stringMatching(/payload_json[\s\S]*newPid/) }),
    );
    expect(() => fromProtoEvent(badField)).toThrow(expect.objectContaining({ field: 'payload_json.newPid' }));
    expect(() => fromProtoEvent({ ...good, severity: 'fatal' })).toThrow(expect.objectContaining({ field: 'severity' }));
    // null spells "absent" on the wire: dropped, so the message does not say "signal null"
    const killed = fromProtoEvent({ ...good, type: 'NodeCrashed', payloadJson: '{"exitCode":null,"signal":"SIGKILL"}' });
    expect(killed.payload).toEqual({ signal: 'SIGKILL' });
    const exited = { ...sample('NodeCrashed'), payload: fromProtoEvent({ ...good, type: 'NodeCrashed', payloadJson: '{"exitCode":3,"signal":null}' }).payload } as GridEvent;
    expect(formatEventMessage(exited)).toBe('node n1 on agent a1 crashed (exit code 3)');
  });

  it('maps watch items to stream messages', () => {
    expect(toProtoWatchItem({ kind: 'start', requestedIndex: 5, startIndex: 9, truncated: true })).toEqual({
      start: { requestedIndex: 5, startIndex: 9, truncated: true },
    });
    expect(toProtoWatchItem({ kind: 'event', event: sample('SpecApplied') }).event?.type).toBe('SpecApplied');
  });
});
