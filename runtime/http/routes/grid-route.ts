import type { FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import type { MasterApi } from '../../master/index.js';

/**
 * What a caller needs to be allowed to call a route. Today one shared token allows both; the
 * hosts issue's per-caller credentials will map their roles onto these two.
 */
export type Access = 'read' | 'operate';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's {@link Access}, for the request guard. */
    access?: Access;
  }
}

/** One route of the API under `/api/grid`: its schema, who may call it, what it calls. */
export interface GridRoute {
  readonly method: 'GET' | 'POST';
  /** Path under `/api/grid`, fastify syntax (`/nodes/:id`). */
  readonly url: string;
  /** One line for the OpenAPI document. */
  readonly summary: string;
  readonly access: Access;
  readonly schema: FastifySchema;
  /** The body is a grid.yaml (or JSON) text, up to the spec size limit; other bodies are JSON. */
  readonly specBody?: boolean;
  /** Answers the request: a JSON body (200), or nothing once it has answered itself (SSE). */
  handler(api: MasterApi, req: FastifyRequest, reply: FastifyReply): Promise<unknown>;
}
