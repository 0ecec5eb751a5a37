/**
 * Who may call the API, checked on every request before its body is read: the master's bearer
 * token (the one the gRPC side checks, compared in constant time), and same-origin only. Browsers
 * get no CORS headers, so another site's script cannot read an answer; a cross-site request that
 * still arrives (a form post, a DNS-rebound name) is refused here before it can change anything.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { tokensEqual } from '../../client/transport.js';
import { isLoopbackHost } from '../common/grpc-server.js';
import { PROBLEM_CONTENT_TYPE, problem, type Problem } from './problem.js';

const UNAUTH = 'missing or invalid bearer token (send `Authorization: Bearer <token>`, the token of --token-file or SUTRA_GRID_TOKEN)';

/** The host name of a `Host` header or an origin's authority (`[::1]:80` -> `[::1]`). */
function hostName(authority: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d*)?$/.exec(authority.trim().toLowerCase());
  return m?.[1] ?? '';
}

/** Why the request is refused, or undefined when it may go on. */
export function refusal(req: FastifyRequest, token: string | undefined): Problem | undefined {
  // The dashboard's files hold no secret and a browser's navigation cannot carry a token: the page
  // itself sends the token with every API call (runtime/http/dashboard.ts).
  if (token !== undefined && req.routeOptions.config?.dashboard !== true) {
    const header = req.headers.authorization ?? '';
    const presented = header.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (presented === undefined || !tokensEqual(presented, token)) return problem('UNAUTHENTICATED', GrpcStatus.UNAUTHENTICATED, UNAUTH);
  }
  const host = req.headers.host ?? '';
  // Without a token the API is on loopback only; a Host that is not a loopback name is a web page
  // whose own name was rebound to 127.0.0.1, calling with the operator's browser.
  if (token === undefined && !isLoopbackHost(hostName(host))) {
    return problem('PERMISSION_DENIED', GrpcStatus.PERMISSION_DENIED, `Host ${JSON.stringify(host.slice(0, 64))} is not a loopback name; without a token the API answers loopback names only`);
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let authority = '';
    try {
      authority = new URL(origin).host;
    } catch {
      // an unreadable origin (`null` from a sandboxed frame) is not this one
    }
    if (authority.toLowerCase() !== host.toLowerCase()) return problem('PERMISSION_DENIED', GrpcStatus.PERMISSION_DENIED, 'cross-origin requests are refused (same-origin only)');
  } else if (req.headers['sec-fetch-site'] === 'cross-site') {
    return problem('PERMISSION_DENIED', GrpcStatus.PERMISSION_DENIED, 'cross-site requests are refused (same-origin only)');
  }
  return undefined;
}

/** An `onRequest` hook answering refused requests with their problem. */
export function guard(token: string | undefined): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (req, reply) => {
    const p = refusal(req, token);
    if (p === undefined) return;
    if (p.status === 401) void reply.header('www-authenticate', 'Bearer realm="sutra-grid"');
    await reply.code(p.status).type(PROBLEM_CONTENT_TYPE).send(p);
  };
}
