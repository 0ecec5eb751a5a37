/**
 * JSON Schemas of the routes: fastify validates requests with them and the OpenAPI document
 * (`/api/grid/openapi.json`) is generated from them, so the two cannot disagree. Answers list
 * their fields for the document but allow more (`additionalProperties`), so a field added to a
 * view is never silently dropped by the serializer.
 */

const str = { type: 'string' } as const;
const int = { type: 'integer' } as const;
const bool = { type: 'boolean' } as const;

/** An agent or node id, as the gRPC side checks it (runtime/common/grpc-edge.ts). */
export const ID_SCHEMA = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$', description: '1-63 letters, digits, ".", "_" or "-", starting with a letter or digit' } as const;

function object(properties: Record<string, unknown>, description?: string): Record<string, unknown> {
  return { type: 'object', properties, additionalProperties: true, ...(description !== undefined ? { description } : {}) };
}

/** The error body of every route (`application/problem+json`). */
export const PROBLEM_SCHEMA = {
  type: 'object',
  description: 'RFC 9457 problem details; `type` carries the stable error code',
  properties: { type: str, title: str, status: int, detail: str, field: str, grpcCode: str },
  required: ['type', 'title', 'status', 'detail', 'grpcCode'],
  additionalProperties: true,
} as const;

export const AGENT_SCHEMA = object({
  id: str,
  status: { type: 'string', enum: ['healthy', 'degraded', 'offline'] },
  cordoned: { type: 'boolean', description: 'no new nodes are placed on it' },
  cordonedBy: { type: 'string', description: '`spec`, `operator`, `spec+operator`, or empty' },
  cordonReason: str,
  drain: { type: 'string', description: '`draining`, `drained`, or empty' },
  drainDeadlineMs: int,
  platform: str,
  maxNodes: int,
  nodes: { type: 'integer', description: 'nodes the master lists on this agent' },
  address: str,
  hostname: str,
  maxMemoryMb: int,
  labels: { type: 'object', additionalProperties: str },
  version: str,
  lastHeartbeatMs: int,
  registeredAtMs: int,
});

export const NODE_SCHEMA = object({
  nodeId: str,
  agentId: str,
  port: int,
  pid: int,
  status: str,
  restarts: int,
  storagePath: str,
  memoryMb: int,
  cluster: str,
  role: str,
  term: int,
  logPosition: int,
  lastExit: str,
  startedAtMs: int,
  generation: int,
  replication: object({ role: str, term: int, leader: str, durability: str, syncQuorum: int, logPosition: int, lastLogTerm: int, leaderLogPosition: int, catchingUp: bool, connected: bool, readAtMs: int }),
});

export const STATUS_SCHEMA = object({
  agents: object({ total: int, healthy: int, degraded: int, offline: int }),
  nodes: object({ total: int, running: int, failed: int }),
  health: str,
  events: object({ dropped: int, storeError: str }, 'present only when the event store dropped events or fails'),
  rollouts: { type: 'array', description: 'present only while rollouts are known (as reconcile.rollouts)', items: { type: 'object', additionalProperties: true } },
  clusters: { type: 'array', items: object({ name: str, desired: int, running: int, health: str, leaderNodeId: str }) },
  specGeneration: int,
  reconcile: object({
    generation: int,
    pendingActions: int,
    unplaced: { type: 'array', items: object({ cluster: str, nodeIds: { type: 'array', items: str }, reason: str }) },
    rollouts: { type: 'array', items: object({ cluster: str, generation: int, state: str, step: int, nodesDone: int, nodesTotal: int, reason: str }) },
  }),
});

export const EVENT_SCHEMA = object({
  index: { type: 'integer', description: 'the event log index; also the SSE event id' },
  timestampUs: int,
  type: str,
  severity: str,
  agentId: str,
  nodeId: str,
  cluster: str,
  count: int,
  lastSeenUs: int,
  message: str,
  payload: { type: 'object', additionalProperties: true },
});

export const PLAN_SCHEMA = object(
  {
    actions: { type: 'array', items: object({ op: str, cluster: str, nodeId: str, agentId: str, fromAgentId: str, role: str, memoryMb: int, reason: str }) },
    unplaced: { type: 'array', items: object({ cluster: str, nodeIds: { type: 'array', items: str }, reason: str }) },
    deferred: { type: 'array', items: object({ cluster: str, nodeId: str, agentId: str, reason: str }) },
    summary: object({ create: int, destroy: int, update: int, replace: int, unchanged: int }),
    changed: bool,
    specChanged: { type: 'boolean', description: "the stored spec would change (e.g. monitoring), even if no node does" },
    generation: { type: 'integer', description: 'the applied generation the plan was made against: give it to apply' },
    text: { type: 'string', description: 'the plan as `sutra-grid plan` prints it' },
  },
  '`sutra-grid plan --json`, plus its text',
);

/** Answers: 200 with `ok`, and the problem body for every error status. */
export function answers(ok: unknown, ...errors: number[]): Record<string, unknown> {
  const out: Record<string, unknown> = { 200: ok };
  for (const s of [400, 401, ...errors]) out[s] = { description: 'problem details', content: { 'application/problem+json': { schema: PROBLEM_SCHEMA } } };
  return out;
}

export { str, int, bool, object };
