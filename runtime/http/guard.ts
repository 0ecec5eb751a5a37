/**
 * Who may call the API, checked on every request before its body is read. A caller is the
 * master's shared token (all powers, as on gRPC, compared in constant time), or, when the master
 * runs with mutual TLS, an API token of one role (`token create --api`) or a client certificate of
 * the grid CA (its role from the identity URI, as on gRPC; revoked serials refused). Each route
 * needs a role (reader for reads and plans, operator for changes); a caller without it gets 403
 * naming the role. Same-origin only: browsers get no CORS headers, so another site's script cannot
 * read an answer; a cross-site request that still arrives (a form post, a DNS-rebound name) is
 * refused here before it can change anything.
 */
import type { TLSSocket } from 'node:tls';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { identityFromAltNames, tokensEqual, type GridIdentity, type GridRole } from '../../client/transport.js';
import { isLoopbackHost } from '../common/grpc-server.js';
import { roleSatisfies } from '../common/rpc-roles.js';
import type { HttpCredentials } from '../master/index.js';
import { PROBLEM_CONTENT_TYPE, problem, type Problem } from './problem.js';
import type { Access } from './routes/grid-route.js';

const UNAUTH = 'missing or invalid bearer token (send `Authorization: Bearer <token>`, the token of --token-file or SUTRA_GRID_TOKEN)';
const UNAUTH_TLS =
  'missing or invalid credential (send `Authorization: Bearer <token>` with an API token from `sutra-grid token create --api`, or present a client certificate of the grid CA)';

/** The role each kind of route needs. */
const ROLE_OF: Readonly<Record<Access, GridRole>> = { read: 'reader', operate: 'operator' };

/** Who is calling: a role and a name for messages. `legacy` (the shared token) passes every check. */
interface HttpCaller extends GridIdentity {
  readonly legacy: boolean;
}

/** The host name of a `Host` header or an origin's authority (`[::1]:80` -> `[::1]`). */
function hostName(authority: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::\d*)?$/.exec(authority.trim().toLowerCase());
  return m?.[1] ?? '';
}

function bearerOf(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization ?? '';
  return header.startsWith('Bearer ') ? header.slice(7) : undefined;
}

/** The identity of a client certificate the TLS layer verified against the grid CA, or a problem. */
function certificateCaller(req: FastifyRequest, creds: HttpCredentials): HttpCaller | Problem | undefined {
  const socket = req.raw.socket as Partial<TLSSocket>;
  // `authorized` is false for no certificate and for one of another CA (the server asks for one
  // but does not insist: a browser comes with an API token instead).
  if (socket.authorized !== true || socket.getPeerCertificate === undefined) return undefined;
  const cert = socket.getPeerCertificate();
  const identity = identityFromAltNames(cert.subjectaltname);
  if (identity === undefined) return problem('UNAUTHENTICATED', GrpcStatus.UNAUTHENTICATED, 'the client certificate carries no sutra-grid identity');
  // The handshake checked expiry; a keep-alive connection may outlive its certificate.
  if (Date.parse(cert.valid_to) <= Date.now()) return problem('UNAUTHENTICATED', GrpcStatus.UNAUTHENTICATED, `the client certificate expired at ${cert.valid_to}`);
  const serial = cert.serialNumber.toUpperCase();
  if (creds.isRevoked(serial, identity)) {
    return problem('UNAUTHENTICATED', GrpcStatus.UNAUTHENTICATED, `the credential of ${identity.role} ${JSON.stringify(identity.name)} (serial ${serial}) is revoked`);
  }
  return { ...identity, legacy: false };
}

/** The caller of `req`, a problem (401), or undefined for an open loopback API (no token, no TLS). */
function callerOf(req: FastifyRequest, token: string | undefined, creds: HttpCredentials | undefined): HttpCaller | Problem | undefined {
  const presented = bearerOf(req);
  if (presented !== undefined) {
    if (token !== undefined && tokensEqual(presented, token)) return { role: 'admin', name: 'shared-token', legacy: true };
    const identity = creds?.apiToken(presented);
    if (identity !== undefined) return { ...identity, legacy: false };
  } else if (creds !== undefined) {
    const byCert = certificateCaller(req, creds);
    if (byCert !== undefined) return byCert;
  }
  if (token === undefined && creds === undefined) return undefined;
  return problem('UNAUTHENTICATED', GrpcStatus.UNAUTHENTICATED, creds !== undefined ? UNAUTH_TLS : UNAUTH);
}

/** Why the request is refused, or undefined when it may go on. */
export function refusal(req: FastifyRequest, token: string | undefined, creds?: HttpCredentials): Problem | undefined {
  // The dashboard's files hold no secret and a browser's navigation cannot carry a token: the page
  // itself sends the token with every API call (runtime/http/dashboard.ts).
  if (req.routeOptions.config?.dashboard !== true) {
    const caller = callerOf(req, token, creds);
    if (caller !== undefined && 'status' in caller) return caller;
    // Routes without an access of their own (OpenAPI document, /metrics, unknown paths) are reads.
    const need = ROLE_OF[req.routeOptions.config?.access ?? 'read'];
    if (caller !== undefined && !caller.legacy && !roleSatisfies(caller.role, need)) {
      const route = `${req.method} ${req.routeOptions.url ?? req.url.split('?')[0] ?? ''}`;
      return problem('PERMISSION_DENIED', GrpcStatus.PERMISSION_DENIED, `${route} requires role ${need}; the caller ${JSON.stringify(caller.name)} has role ${caller.role}`, {
        requiredRole: need,
      });
    }
  }
  const host = req.headers.host ?? '';
  // Without any credential the API is on loopback only; a Host that is not a loopback name is a
  // web page whose own name was rebound to 127.0.0.1, calling with the operator's browser.
  if (token === undefined && creds === undefined && !isLoopbackHost(hostName(host))) {
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
export function guard(token: string | undefined, creds?: HttpCredentials): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (req, reply) => {
    const p = refusal(req, token, creds);
    if (p === undefined) return;
    if (p.status === 401) void reply.header('www-authenticate', 'Bearer realm="sutra-grid"');
    await reply.code(p.status).type(PROBLEM_CONTENT_TYPE).send(p);
  };
}
