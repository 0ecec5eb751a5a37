/** Read-only views: agents, status, nodes, one node, the applied spec. */
import { ID_SCHEMA, AGENT_SCHEMA, NODE_SCHEMA, STATUS_SCHEMA, answers, int, object } from '../schemas.js';
import { agentJson, nodeJson, statusJson } from '../views.js';
import { requireId, optionalId } from '../../common/grpc-edge.js';
import type { GridRoute } from './grid-route.js';

interface NodesQuery {
  readonly agent?: string;
  readonly cluster?: string;
}

export const READ_ROUTES: readonly GridRoute[] = [
  {
    method: 'GET',
    url: '/agents',
    summary: 'registered agents with their health (`sutra-grid list-agents --json`)',
    access: 'read',
    schema: { response: answers(object({ agents: { type: 'array', items: AGENT_SCHEMA } })) },
    handler: async ({ registry, declarative }) => {
      const cordonOf = declarative.cordons.lookup();
      return { agents: registry.list().map((a) => agentJson({ ...a, nodes: registry.nodes.list({ agentId: a.info.agentId }) }, cordonOf(a.info.agentId))) };
    },
  },
  {
    method: 'GET',
    url: '/status',
    summary: 'grid health: agent and node counts, clusters, reconciler progress (`sutra-grid status --json`)',
    access: 'read',
    schema: { response: answers(STATUS_SCHEMA) },
    handler: async ({ declarative }) => statusJson(declarative.status()),
  },
  {
    method: 'GET',
    url: '/nodes',
    summary: 'storage nodes as the master counts them (`sutra-grid list-nodes --json`)',
    access: 'read',
    schema: {
      querystring: { type: 'object', properties: { agent: { ...ID_SCHEMA, description: 'only nodes of this agent' }, cluster: { type: 'string', maxLength: 63, description: 'only nodes of this cluster' } }, additionalProperties: false },
      response: answers(object({ nodes: { type: 'array', items: NODE_SCHEMA } })),
    },
    handler: async ({ declarative }, req) => {
      const q = req.query as NodesQuery;
      return { nodes: declarative.nodes({ agentId: optionalId('agent', q.agent ?? ''), cluster: q.cluster ?? '' }).map(nodeJson) };
    },
  },
  {
    method: 'GET',
    url: '/nodes/:id',
    summary: "one node's status, live from its agent; `stale: true` when the agent could not be reached (`sutra-grid node-status --json`)",
    access: 'read',
    schema: {
      params: { type: 'object', properties: { id: ID_SCHEMA }, required: ['id'] },
      querystring: { type: 'object', properties: { agent: { ...ID_SCHEMA, description: 'the copy on this agent' } }, additionalProperties: false },
      response: answers({ ...NODE_SCHEMA, properties: { ...(NODE_SCHEMA['properties'] as object), stale: { type: 'boolean', description: 'present (true) only when stale' } } }, 404),
    },
    handler: async ({ ops }, req) => {
      const nodeId = requireId('id', (req.params as { id: string }).id);
      const agent = (req.query as { agent?: string }).agent;
      const { node, stale } = await ops.status(nodeId, agent === undefined || agent === '' ? undefined : agent);
      return { ...nodeJson(node), ...(stale ? { stale: true } : {}) };
    },
  },
  {
    method: 'GET',
    url: '/spec',
    summary: 'the applied spec (null before any) and its generation: give the generation to apply',
    access: 'read',
    schema: { response: answers(object({ spec: { type: ['object', 'null'], additionalProperties: true }, generation: int, appliedAtMs: int })) },
    handler: async ({ declarative }) => {
      const c = declarative.desired.current();
      return { spec: c.specJson === '' ? null : (JSON.parse(c.specJson) as unknown), generation: c.generation, appliedAtMs: c.appliedAtMs };
    },
  },
];
