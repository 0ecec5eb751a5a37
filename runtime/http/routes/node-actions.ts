/**
 * Imperative node control: spawn, stop, and the table of per-node and per-agent actions. Each
 * calls {@link NodeOperations} exactly as the GridMaster handlers do (runtime/master/handlers/
 * node-handlers.ts), with the same id checks, so both sides refuse and succeed alike.
 */
import { parseDuration } from '../../../schema/index.js';
import { drainState } from '../../../client/index.js';
import { MAX_DRAIN_DEADLINE_MS, drainDeadline, type MasterApi } from '../../master/index.js';
import { optionalId, requireId } from '../../common/grpc-edge.js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { RuntimeError } from '../../errors.js';
import { problem, ProblemError } from '../problem.js';
import { ID_SCHEMA, answers, int, object, str } from '../schemas.js';
import { cordonJson } from '../views.js';
import type { GridRoute } from './grid-route.js';

interface SpawnBody {
  readonly agentId: string;
  readonly port?: number;
  readonly memoryMb?: number;
  readonly storagePath?: string;
  readonly nodeId?: string;
}

interface StopBody {
  readonly nodeId: string;
  readonly agentId?: string;
  readonly graceMs?: number;
}

/**
 * An action on one node or agent, `POST /nodes/:id/<verb>` or `POST /agents/:id/<verb>`: restart,
 * promote and drain each become one entry of {@link ACTIONS} once the master has the operation, e.g.
 * `{ on: 'nodes', verb: 'restart', summary: 'restart a node in place', run: (api, id) => api.ops.restart(id) }`.
 */
export interface ActionDef {
  readonly on: 'nodes' | 'agents';
  readonly verb: string;
  readonly summary: string;
  /** The JSON body's properties, when the action takes any (all optional). */
  readonly body?: Readonly<Record<string, unknown>>;
  /** Calls the master's operation; resolves with the JSON answer. */
  run(api: MasterApi, id: string, body: Readonly<Record<string, unknown>>): Promise<unknown>;
}

/** The actions the API offers beside spawn and stop (see {@link ActionDef}). */
export const ACTIONS: readonly ActionDef[] = [
  {
    on: 'agents',
    verb: 'cordon',
    summary: 'place no new nodes on the agent; its nodes stay (`sutra-grid cordon --json`)',
    body: { reason: { type: 'string', maxLength: 1024, description: 'why, shown in list-agents and the AgentCordoned event (at most 256 characters)' } },
    run: cordonAgent,
  },
  {
    on: 'agents',
    verb: 'drain',
    summary: 'cordon the agent and move its nodes of declared clusters elsewhere, under their update policy until the deadline; answers once the drain is recorded (`sutra-grid drain --detach --json`)',
    body: {
      deadline: { type: 'string', maxLength: 32, description: 'how long the moves keep to the update policy, e.g. `90s`, `5m` (the default), at most `24h`' },
      reason: { type: 'string', maxLength: 1024, description: 'why, shown in list-agents and the AgentDrainStarted event (at most 256 characters)' },
    },
    run: drainAgent,
  },
  { on: 'agents', verb: 'uncordon', summary: "lift the operator's cordon (and end a drain); 409 while the spec still cordons the agent (`sutra-grid uncordon --json`)", run: uncordonAgent },
  {
    on: 'nodes',
    verb: 'restart',
    summary: 'stop and start the node in place with its data; a leader with a caught-up replica hands over first (`sutra-grid restart --json`)',
    run: restartNode,
  },
  {
    on: 'nodes',
    verb: 'promote',
    summary: 'make a caught-up replica the leader of its cluster: a planned handover losing no acknowledged write (`sutra-grid promote --json`)',
    run: promoteNode,
  },
];

/** The drain deadline when the body gives none, as the CLI's `--deadline` default. */
const DEFAULT_DRAIN_DEADLINE = '5m';

async function drainAgent(api: MasterApi, agentId: string, body: Readonly<Record<string, unknown>>): Promise<unknown> {
  const reason = body['reason'] ?? '';
  if (typeof reason !== 'string') throw new RuntimeError('INVALID_ARGUMENT', 'reason: must be a string', { field: 'reason' });
  const text = body['deadline'] ?? DEFAULT_DRAIN_DEADLINE;
  let ms = Number.NaN;
  try {
    if (typeof text === 'string') ms = parseDuration(text, 'deadline');
  } catch {
    // reported below, with the bounds
  }
  if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_DRAIN_DEADLINE_MS) {
    throw new RuntimeError('INVALID_ARGUMENT', `deadline: must be a duration like 90s or 5m, more than 0 and at most 24h, got ${JSON.stringify(text)}`, { field: 'deadline' });
  }
  // drainDeadline checks the bounds again, naming the gRPC field; the check above names ours.
  const o = await api.declarative.cordons.drain(agentId, drainDeadline(ms, Date.now()), reason);
  return { agentId, drain: drainState(o.cordon), drainDeadlineMs: o.cordon?.drainDeadlineMs ?? 0, reason: o.cordon?.reason ?? '', changed: o.changed };
}

async function restartNode(api: MasterApi, nodeId: string): Promise<unknown> {
  const { node, handedOverTo } = await api.declarative.restarts.restart(nodeId);
  return { nodeId: node.nodeId, agentId: node.agentId, status: node.status, pid: node.pid, port: node.port, handedOverTo };
}

async function promoteNode(api: MasterApi, nodeId: string): Promise<unknown> {
  const r = await api.declarative.handover.promote(nodeId);
  return { cluster: r.cluster, nodeId: r.nodeId, previousLeader: r.previous, term: r.term, logPosition: r.logPosition };
}

async function cordonAgent(api: MasterApi, agentId: string, body: Readonly<Record<string, unknown>>): Promise<unknown> {
  const reason = body['reason'] ?? '';
  if (typeof reason !== 'string') throw new RuntimeError('INVALID_ARGUMENT', 'reason: must be a string', { field: 'reason' });
  return cordonJson(agentId, await api.declarative.cordons.cordon(agentId, reason));
}

async function uncordonAgent(api: MasterApi, agentId: string): Promise<unknown> {
  const outcome = await api.declarative.cordons.uncordon(agentId);
  // As the CLI, which exits 1: the operator's intent (a schedulable agent) was not met.
  if (outcome.cordon?.bySpec === true) {
    throw new ProblemError(
      problem('CORDONED_BY_SPEC', GrpcStatus.FAILED_PRECONDITION, `agent ${agentId} is still cordoned: the applied spec declares it (agents[].cordoned); remove that and apply to uncordon it`, {
        field: 'id',
        cordon: cordonJson(agentId, outcome),
      }),
    );
  }
  return cordonJson(agentId, outcome);
}

/** The route of one {@link ActionDef}. */
export function actionRoute(a: ActionDef): GridRoute {
  return {
    method: 'POST',
    url: `/${a.on}/:id/${a.verb}`,
    summary: a.summary,
    access: 'operate',
    schema: {
      params: { type: 'object', properties: { id: ID_SCHEMA }, required: ['id'] },
      body: { type: 'object', properties: { ...(a.body ?? {}) }, additionalProperties: false },
      response: answers({ type: 'object', additionalProperties: true }, 404, 409, 503),
    },
    handler: (api, req) => a.run(api, requireId('id', (req.params as { id: string }).id), (req.body ?? {}) as Record<string, unknown>),
  };
}

export const NODE_ROUTES: readonly GridRoute[] = [
  {
    method: 'POST',
    url: '/spawn',
    summary: 'start a storage node on an agent (`sutra-grid spawn --json`)',
    access: 'operate',
    schema: {
      body: {
        type: 'object',
        required: ['agentId'],
        additionalProperties: false,
        properties: {
          agentId: { ...ID_SCHEMA, description: 'the agent to run the node on' },
          port: { type: 'integer', minimum: 0, maximum: 65535, description: '0 or omitted: a free port picked by the agent' },
          memoryMb: { type: 'integer', minimum: 0, description: "0 or omitted: the agent's default" },
          storagePath: { type: 'string', maxLength: 4096, description: "under the agent's data dir; omitted: one is picked" },
          nodeId: { ...ID_SCHEMA, description: 'omitted: generated' },
        },
      },
      response: answers(object({ nodeId: str, agentId: str, port: int, pid: int, status: str }), 404, 409, 429, 503),
    },
    handler: async ({ ops }, req) => {
      const b = req.body as SpawnBody;
      const node = await ops.spawn({
        agentId: requireId('agentId', b.agentId),
        port: b.port ?? 0,
        memoryMb: b.memoryMb ?? 0,
        storagePath: b.storagePath ?? '',
        nodeId: optionalId('nodeId', b.nodeId ?? ''),
      });
      return { nodeId: node.nodeId, agentId: node.agentId, port: node.port, pid: node.pid, status: node.status };
    },
  },
  {
    method: 'POST',
    url: '/stop',
    summary: 'stop a storage node: SIGTERM, then SIGKILL after the grace (`sutra-grid stop --json`)',
    access: 'operate',
    schema: {
      body: {
        type: 'object',
        required: ['nodeId'],
        additionalProperties: false,
        properties: {
          nodeId: ID_SCHEMA,
          agentId: { ...ID_SCHEMA, description: 'the agent the node must be on; refused (404) when it is elsewhere' },
          graceMs: { type: 'integer', minimum: 0, description: "between SIGTERM and SIGKILL; 0 or omitted: the agent's default" },
        },
      },
      response: answers(object({ nodeId: str, agentId: str, status: str, lastExit: str }), 404, 503),
    },
    handler: async ({ ops }, req) => {
      const b = req.body as StopBody;
      const agentId = b.agentId === undefined ? undefined : requireId('agentId', b.agentId);
      const node = await ops.stop(requireId('nodeId', b.nodeId), b.graceMs ?? 0, agentId);
      return { nodeId: node.nodeId, agentId: node.agentId, status: node.status, lastExit: node.lastExit };
    },
  },
  ...ACTIONS.map(actionRoute),
];
