import { EventError } from './errors.js';

/** How serious an event is; the wire carries the same strings. */
export type Severity = 'info' | 'warning' | 'error';

/**
 * The typed payload of every event type. The agent/node/cluster an event concerns are top-level
 * fields of the event, not payload, so payloads only carry what is specific to the type.
 */
export interface EventPayloads {
  AgentRegistered: { hostname: string; platform: string; address: string };
  AgentHeartbeat: { nodeCount: number };
  AgentDegraded: { sinceHeartbeatMs: number };
  AgentOffline: { sinceHeartbeatMs: number };
  AgentRecovered: { downForMs: number };
  AgentUnregistered: { reason: string };
  /** The agent takes no new nodes (`by`: operator or spec; `reason`: the operator's, may be empty). */
  AgentCordoned: { by: string; reason: string };
  /** A cordon was lifted (`by`: operator or spec); `stillCordoned` when the other one remains. */
  AgentUncordoned: { by: string; stillCordoned: boolean };
  /** An operator started draining the agent (or changed the drain): its nodes move away, paced until `deadlineMs` (ms since the epoch). */
  AgentDrainStarted: { deadlineMs: number; reason: string };
  /** A draining agent holds no node of a declared cluster any more, `durationMs` after the drain started. */
  AgentDrained: { durationMs: number };
  SpawnRequested: { port?: number; reason?: string };
  SpawnSucceeded: { pid: number; port: number; durationMs: number };
  SpawnFailed: { reason: string };
  StopRequested: { reason?: string };
  StopSucceeded: { durationMs: number };
  StopFailed: { reason: string };
  /** Exactly one of `exitCode` (normal exit) or `signal` (killed) is set. */
  NodeCrashed: { exitCode?: number; signal?: string };
  /** `reason` is set for a restart an operator asked for (`sutra-grid restart`), unset for the agent's own. */
  NodeRestarted: { restartCount: number; newPid: number; reason?: string };
  ClusterHealthy: { healthyNodes: number; totalNodes: number };
  ClusterDegraded: { healthyNodes: number; totalNodes: number; reason?: string };
  ClusterCritical: { healthyNodes: number; totalNodes: number; reason?: string };
  SpecApplied: { generation: number; nodes: number };
  /** `nodeId` of the event is the replacement; `oldNodeId` the node it replaces. */
  NodeReplaced: { oldNodeId: string; reason: string };
  NodeFailed: { reason: string; restartCount?: number };
  /** The node's port was held by another process, so the agent started it on `toPort` instead. */
  NodePortMoved: { fromPort: number; toPort: number; reason: string };
  LeaderChanged: { leaderId: string; term: number };
  PlacementFailed: { reason: string; group?: string };
  /** Emitted by the bus itself when its store works again after failing. */
  EventStoreRecovered: { dropped: number; downForMs: number; error: string };
  /**
   * The event log was found damaged when the master opened it: what was set aside, how many
   * records were recovered past the damage, and which indexes are lost for good (never reused).
   */
  EventLogRecovered: { damagedFiles: number; recoveredRecords: number; lostIndexes: number; nextIndex: number; report: string };
  /** The stored spec was damaged; the master started from its last good copy (`file` is the damaged one). */
  SpecRecovered: { file: string; problem: string; fallback: string; generation: number };
  /** A leader or replica reports another role or term than before (`leader`: whom a replica follows). */
  RoleChanged: { role: string; term: number; leader?: string };
  /** A replica is behind its leader and copying its log (new, restarted, or pointed at a new leader). */
  CatchUpStarted: { logPosition: number; leaderLogPosition: number };
  /** The replica reached its leader's position. */
  CatchUpDone: { logPosition: number; durationMs: number };
  /** A caught-up replica fell more than the threshold behind its leader (records). */
  ReplicationLagging: { lagRecords: number; logPosition: number; leaderLogPosition: number };
  /** A rolling restart restarts the event's node, in step `step` of the cluster's rollout to `generation`. */
  RolloutStepStarted: { generation: number; step: number };
  /** The restarted node ran healthy for the policy's minHealthyTime (`durationMs` from its restart). */
  RolloutStepDone: { generation: number; step: number; durationMs: number };
  /** Every node of the cluster's rollout to `generation` restarted and ran healthy. */
  RolloutDone: { generation: number; nodes: number; durationMs: number };
  /** A restarted node was not healthy within the policy's healthyDeadline: no further node restarts. */
  RolloutFailed: { generation: number; reason: string; autoRevert: boolean };
  /** A failed rollout's autoRevert applied the last good spec (of `goodGeneration`) again as `toGeneration`. */
  RolloutReverted: { fromGeneration: number; toGeneration: number; goodGeneration: number; reason: string };
}

/** Every event type name. */
export type EventType = keyof EventPayloads;

/**
 * A stored event of type `T`. `index` is assigned by the master, strictly increasing and never
 * reused; `timestampUs` is strictly increasing with the index. `count`/`lastSeenUs` describe a
 * series of identical occurrences folded into this record (1 and `timestampUs` when unfolded).
 */
export interface GridEventOf<T extends EventType> {
  readonly index: number;
  readonly timestampUs: number;
  readonly type: T;
  readonly severity: Severity;
  readonly agentId: string;
  readonly nodeId: string;
  readonly cluster: string;
  readonly payload: EventPayloads[T];
  readonly count: number;
  readonly lastSeenUs: number;
}

/** Any stored event, discriminated by `type`. */
export type GridEvent = { [K in EventType]: GridEventOf<K> }[EventType];

/** What a caller hands to `emit()`: the master assigns index, timestamp and series fields. */
export type EventInput = {
  [K in EventType]: {
    readonly type: K;
    readonly payload: EventPayloads[K];
    readonly agentId?: string;
    readonly nodeId?: string;
    readonly cluster?: string;
    /** Overrides the type's default severity. */
    readonly severity?: Severity;
  };
}[EventType];

type FieldKind = 'string' | 'number' | 'boolean';
/** A payload field's kind; a trailing `?` marks it optional. */
type FieldSpec = FieldKind | `${FieldKind}?`;

interface TypeInfo<T extends EventType> {
  readonly severity: Severity;
  /** Identical repeats within the series window fold into one series record (heartbeats, retries). */
  readonly fold: boolean;
  readonly fields: { readonly [F in keyof EventPayloads[T]]-?: FieldSpec };
  readonly format: (e: GridEventOf<T>) => string;
}

const node = (e: { nodeId: string; agentId: string }): string =>
  `node ${e.nodeId || '?'}${e.agentId ? ` on agent ${e.agentId}` : ''}`;
const health = (p: { healthyNodes: number; totalNodes: number; reason?: string }): string =>
  `${p.healthyNodes}/${p.totalNodes} nodes healthy${p.reason ? `: ${p.reason}` : ''}`;

const TYPES: { readonly [K in EventType]: TypeInfo<K> } = {
  AgentRegistered: {
    severity: 'info', fold: false,
    fields: { hostname: 'string', platform: 'string', address: 'string' },
    format: (e) => `agent ${e.agentId} registered (${e.payload.platform} on ${e.payload.hostname}, ${e.payload.address})`,
  },
  AgentHeartbeat: {
    severity: 'info', fold: true,
    fields: { nodeCount: 'number' },
    format: (e) => `agent ${e.agentId} heartbeat (${e.payload.nodeCount} nodes)`,
  },
  AgentDegraded: {
    severity: 'warning', fold: false,
    fields: { sinceHeartbeatMs: 'number' },
    format: (e) => `agent ${e.agentId} degraded: no heartbeat for ${e.payload.sinceHeartbeatMs} ms`,
  },
  AgentOffline: {
    severity: 'error', fold: false,
    fields: { sinceHeartbeatMs: 'number' },
    format: (e) => `agent ${e.agentId} offline: no heartbeat for ${e.payload.sinceHeartbeatMs} ms`,
  },
  AgentRecovered: {
    severity: 'info', fold: false,
    fields: { downForMs: 'number' },
    format: (e) => `agent ${e.agentId} recovered after ${e.payload.downForMs} ms`,
  },
  AgentUnregistered: {
    severity: 'info', fold: false,
    fields: { reason: 'string' },
    format: (e) => `agent ${e.agentId} unregistered: ${e.payload.reason}`,
  },
  AgentCordoned: {
    severity: 'info', fold: false,
    fields: { by: 'string', reason: 'string' },
    format: (e) => `agent ${e.agentId} cordoned by the ${e.payload.by}${e.payload.reason ? `: ${e.payload.reason}` : ''} (no new nodes; its nodes stay)`,
  },
  AgentUncordoned: {
    severity: 'info', fold: false,
    fields: { by: 'string', stillCordoned: 'boolean' },
    format: (e) =>
      `agent ${e.agentId} uncordoned by the ${e.payload.by}${e.payload.stillCordoned ? `, still cordoned by the ${e.payload.by === 'spec' ? 'operator' : 'spec'}` : '; it takes new nodes again'}`,
  },
  AgentDrainStarted: {
    severity: 'info', fold: false,
    fields: { deadlineMs: 'number', reason: 'string' },
    format: (e) =>
      `agent ${e.agentId} draining${e.payload.reason ? ` (${e.payload.reason})` : ''}: its nodes move to other agents, paced by their update policy until ${new Date(e.payload.deadlineMs).toISOString()}`,
  },
  AgentDrained: {
    severity: 'info', fold: false,
    fields: { durationMs: 'number' },
    format: (e) => `agent ${e.agentId} drained in ${e.payload.durationMs} ms: it holds no declared node (uncordon it to place nodes on it again)`,
  },
  SpawnRequested: {
    severity: 'info', fold: false,
    fields: { port: 'number?', reason: 'string?' },
    format: (e) => `spawn of ${node(e)} requested${e.payload.port ? ` on port ${e.payload.port}` : ''}${e.payload.reason ? ` (${e.payload.reason})` : ''}`,
  },
  SpawnSucceeded: {
    severity: 'info', fold: false,
    fields: { pid: 'number', port: 'number', durationMs: 'number' },
    format: (e) => `${node(e)} started (pid ${e.payload.pid}, port ${e.payload.port}) in ${e.payload.durationMs} ms`,
  },
  SpawnFailed: {
    severity: 'error', fold: false,
    fields: { reason: 'string' },
    format: (e) => `spawn of ${node(e)} failed: ${e.payload.reason}`,
  },
  StopRequested: {
    severity: 'info', fold: false,
    fields: { reason: 'string?' },
    format: (e) => `stop of ${node(e)} requested${e.payload.reason ? ` (${e.payload.reason})` : ''}`,
  },
  StopSucceeded: {
    severity: 'info', fold: false,
    fields: { durationMs: 'number' },
    format: (e) => `${node(e)} stopped in ${e.payload.durationMs} ms`,
  },
  StopFailed: {
    severity: 'error', fold: false,
    fields: { reason: 'string' },
    format: (e) => `stop of ${node(e)} failed: ${e.payload.reason}`,
  },
  NodeCrashed: {
    severity: 'error', fold: false,
    fields: { exitCode: 'number?', signal: 'string?' },
    format: (e) => `${node(e)} crashed (${e.payload.signal != null ? `signal ${e.payload.signal}` : `exit code ${e.payload.exitCode}`})`,
  },
  NodeRestarted: {
    severity: 'warning', fold: false,
    fields: { restartCount: 'number', newPid: 'number', reason: 'string?' },
    format: (e) => (e.payload.reason ? `${node(e)} ${e.payload.reason} (pid ${e.payload.newPid})` : `${node(e)} restarted (restart #${e.payload.restartCount}, pid ${e.payload.newPid})`),
  },
  ClusterHealthy: {
    severity: 'info', fold: false,
    fields: { healthyNodes: 'number', totalNodes: 'number' },
    format: (e) => `cluster ${e.cluster} healthy: ${health(e.payload)}`,
  },
  ClusterDegraded: {
    severity: 'warning', fold: false,
    fields: { healthyNodes: 'number', totalNodes: 'number', reason: 'string?' },
    format: (e) => `cluster ${e.cluster} degraded: ${health(e.payload)}`,
  },
  ClusterCritical: {
    severity: 'error', fold: false,
    fields: { healthyNodes: 'number', totalNodes: 'number', reason: 'string?' },
    format: (e) => `cluster ${e.cluster} critical: ${health(e.payload)}`,
  },
  SpecApplied: {
    severity: 'info', fold: false,
    fields: { generation: 'number', nodes: 'number' },
    format: (e) => `spec generation ${e.payload.generation} applied (${e.payload.nodes} nodes)`,
  },
  NodeReplaced: {
    severity: 'warning', fold: false,
    fields: { oldNodeId: 'string', reason: 'string' },
    format: (e) => `node ${e.payload.oldNodeId} replaced by ${node(e)}: ${e.payload.reason}`,
  },
  NodeFailed: {
    severity: 'error', fold: false,
    fields: { reason: 'string', restartCount: 'number?' },
    format: (e) => `${node(e)} failed: ${e.payload.reason}`,
  },
  NodePortMoved: {
    severity: 'warning', fold: false,
    fields: { fromPort: 'number', toPort: 'number', reason: 'string' },
    format: (e) => `${node(e)} moved from port ${e.payload.fromPort} to ${e.payload.toPort}: ${e.payload.reason}`,
  },
  LeaderChanged: {
    severity: 'warning', fold: false,
    fields: { leaderId: 'string', term: 'number' },
    format: (e) => `cluster ${e.cluster} leader is now ${e.payload.leaderId} (term ${e.payload.term})`,
  },
  PlacementFailed: {
    severity: 'warning', fold: true,
    fields: { reason: 'string', group: 'string?' },
    format: (e) => `placement failed${e.payload.group ? ` for ${e.payload.group}` : ''}${e.cluster ? ` in cluster ${e.cluster}` : ''}: ${e.payload.reason}`,
  },
  EventStoreRecovered: {
    severity: 'warning', fold: false,
    fields: { dropped: 'number', downForMs: 'number', error: 'string' },
    format: (e) => `event store recovered after ${e.payload.downForMs} ms (${e.payload.dropped} events dropped): ${e.payload.error}`,
  },
  EventLogRecovered: {
    severity: 'error', fold: false,
    fields: { damagedFiles: 'number', recoveredRecords: 'number', lostIndexes: 'number', nextIndex: 'number', report: 'string' },
    format: (e) => `event log was damaged: ${e.payload.report}`,
  },
  SpecRecovered: {
    severity: 'error', fold: false,
    fields: { file: 'string', problem: 'string', fallback: 'string', generation: 'number' },
    format: (e) => `stored spec ${e.payload.file} ${e.payload.problem}; started from its last good copy ${e.payload.fallback} as generation ${e.payload.generation}`,
  },
  RoleChanged: {
    severity: 'info', fold: false,
    fields: { role: 'string', term: 'number', leader: 'string?' },
    format: (e) => `${node(e)} is ${e.payload.role} in term ${e.payload.term}${e.payload.leader ? `, following ${e.payload.leader}` : ''}`,
  },
  CatchUpStarted: {
    severity: 'info', fold: false,
    fields: { logPosition: 'number', leaderLogPosition: 'number' },
    format: (e) => `${node(e)} catching up with its leader from position ${e.payload.logPosition} (leader at ${e.payload.leaderLogPosition})`,
  },
  CatchUpDone: {
    severity: 'info', fold: false,
    fields: { logPosition: 'number', durationMs: 'number' },
    format: (e) => `${node(e)} caught up with its leader at position ${e.payload.logPosition} in ${e.payload.durationMs} ms`,
  },
  ReplicationLagging: {
    severity: 'warning', fold: false,
    fields: { lagRecords: 'number', logPosition: 'number', leaderLogPosition: 'number' },
    format: (e) => `${node(e)} lags ${e.payload.lagRecords} records behind its leader (at ${e.payload.logPosition} of ${e.payload.leaderLogPosition})`,
  },
  RolloutStepStarted: {
    severity: 'info', fold: false,
    fields: { generation: 'number', step: 'number' },
    format: (e) => `cluster ${e.cluster} rollout to generation ${e.payload.generation}: step ${e.payload.step} restarts ${node(e)}`,
  },
  RolloutStepDone: {
    severity: 'info', fold: false,
    fields: { generation: 'number', step: 'number', durationMs: 'number' },
    format: (e) => `cluster ${e.cluster} rollout to generation ${e.payload.generation}: ${node(e)} healthy after ${e.payload.durationMs} ms (step ${e.payload.step})`,
  },
  RolloutDone: {
    severity: 'info', fold: false,
    fields: { generation: 'number', nodes: 'number', durationMs: 'number' },
    format: (e) => `cluster ${e.cluster} rolled out generation ${e.payload.generation}: ${e.payload.nodes} nodes in ${e.payload.durationMs} ms`,
  },
  RolloutFailed: {
    severity: 'error', fold: false,
    fields: { generation: 'number', reason: 'string', autoRevert: 'boolean' },
    format: (e) => `cluster ${e.cluster} rollout to generation ${e.payload.generation} failed: ${e.payload.reason}${e.payload.autoRevert ? '; reverting' : '; stopped'}`,
  },
  RolloutReverted: {
    severity: 'warning', fold: false,
    fields: { fromGeneration: 'number', toGeneration: 'number', goodGeneration: 'number', reason: 'string' },
    format: (e) => `cluster ${e.cluster} rollout to generation ${e.payload.fromGeneration} reverted: the spec of generation ${e.payload.goodGeneration} applied again as ${e.payload.toGeneration}`,
  },
};

/** Every event type name, in declaration order. */
export const EVENT_TYPES: readonly EventType[] = Object.keys(TYPES) as EventType[];

const TYPE_SET: ReadonlySet<string> = new Set(EVENT_TYPES);

/** Whether `name` is a known event type. */
export function isEventType(name: string): name is EventType {
  return TYPE_SET.has(name);
}

/** The severity an event of `type` gets unless the emitter overrides it. */
export function defaultSeverity(type: EventType): Severity {
  return TYPES[type].severity;
}

/** Whether identical repeats of `type` fold into a series (see EventBus). */
export function isFoldable(type: EventType): boolean {
  return TYPES[type].fold;
}

/** Whether `s` is a severity name. */
export function isSeverity(s: string): s is Severity {
  return s === 'info' || s === 'warning' || s === 'error';
}

/** One-line human message for an event, e.g. `node n1 on agent a1 crashed (exit code 1)`. */
export function formatEventMessage(e: GridEvent): string {
  const info = TYPES[e.type] as TypeInfo<EventType>;
  return info.format(e as GridEventOf<EventType>);
}

/**
 * A full log line for `sutra-grid events` and the daemons' lifecycle logs:
 * `2026-11-26T09:30:00.123456Z #42 error NodeCrashed node n1 on agent a1 crashed (exit code 1) [x3, last 09:31:02.5Z]`.
 */
export function formatEventLine(e: GridEvent): string {
  const series = e.count > 1 ? ` [x${e.count}, last ${isoMicros(e.lastSeenUs)}]` : '';
  return `${isoMicros(e.timestampUs)} #${e.index} ${e.severity} ${e.type} ${formatEventMessage(e)}${series}`;
}

/** ISO-8601 UTC with microseconds, e.g. `2026-11-26T09:30:00.123456Z`. */
export function isoMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString(); // ...:00.123Z
  const micros = String(Math.floor(us) % 1000).padStart(3, '0');
  return `${iso.slice(0, -1)}${micros}Z`;
}

/**
 * Checks that `payload` has the shape of `type`'s payload and returns it typed (null fields
 * dropped). Every problem is
 * collected and reported at once; the error's `field` names the first bad field as `payload.<name>`.
 */
export function validatePayload<T extends EventType>(type: T, payload: unknown): EventPayloads[T] {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new EventError('EVENTS_INVALID_EVENT', `must be a JSON object for ${type}`, 'payload');
  }
  const fields = TYPES[type].fields as Readonly<Record<string, FieldSpec>>;
  const obj = payload as Record<string, unknown>;
  const problems: Array<[string, string]> = [];
  for (const [name, spec] of Object.entries(fields)) {
    const optional = spec.endsWith('?');
    const kind = (optional ? spec.slice(0, -1) : spec) as FieldKind;
    const value = obj[name];
    if (value === undefined || value === null) {
      if (!optional) problems.push([name, `is required (${kind})`]);
    } else if (typeof value !== kind || (kind === 'number' && !Number.isFinite(value))) {
      problems.push([name, `must be a ${kind}, got ${JSON.stringify(value)}`]);
    }
  }
  for (const name of Object.keys(obj)) {
    if (!(name in fields)) problems.push([name, `is not a field of ${type}`]);
  }
  if (type === 'NodeCrashed' && problems.length === 0 && (obj['exitCode'] == null) === (obj['signal'] == null)) {
    problems.push(['exitCode', 'exactly one of exitCode or signal must be set']);
  }
  const first = problems[0];
  if (first !== undefined) {
    const all = problems.map(([f, m]) => `payload.${f} ${m}`).join('; ');
    throw new EventError('EVENTS_INVALID_EVENT', `${type}: ${all}`, `payload.${first[0]}`);
  }
  // Wire payloads may spell an absent optional field as null; store it as absent.
  if (Object.values(obj).some((v) => v === null)) {
    return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== null)) as EventPayloads[T];
  }
  return payload as EventPayloads[T];
}
