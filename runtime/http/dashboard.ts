/**
 * The dashboard at `/`: the page, script and style sheet esbuild bundled into `dist/dashboard/` at
 * build time (scripts/build-dashboard.mjs from web/dashboard/), served from memory by a fixed table
 * of paths, so no request names a file. Nothing is fetched from elsewhere: the CSP allows this
 * origin only. The files carry no secret, so they need no token (a browser cannot send one with a
 * navigation); the page sends the operator's token with each API call it makes.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { PROBLEM_CONTENT_TYPE, problem } from './problem.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A dashboard file: served without the bearer token (the origin and Host checks still apply). */
    dashboard?: boolean;
  }
}

/** Where the build puts the bundle, relative to this file's place in dist/runtime/http/. */
const DEFAULT_DIR = fileURLToPath(new URL('../../dashboard/', import.meta.url));

/** This origin only; no inline script or style, no frames, no forms posting elsewhere. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** URL path -> bundled file and its content type. */
const FILES: ReadonlyArray<readonly [path: string, file: string, type: string]> = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/app.js', 'app.js', 'text/javascript; charset=utf-8'],
  ['/app.css', 'app.css', 'text/css; charset=utf-8'],
];

/**
 * Serves the dashboard from `dir` (default: the build's `dist/dashboard/`). When the bundle is
 * missing (built with `tsc` alone), `/` says how to build it instead.
 */
export function registerDashboard(app: FastifyInstance, dir = DEFAULT_DIR): void {
  const headers = {
    'content-security-policy': DASHBOARD_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  };
  let loaded: Array<{ path: string; body: Buffer; type: string }>;
  try {
    loaded = FILES.map(([path, file, type]) => ({ path, body: readFileSync(`${dir}${file}`), type }));
  } catch (err) {
    app.log.warn({ err: (err as Error).message }, 'dashboard bundle not found: `/` answers 404 (run `npm run build`)');
    app.get('/', { schema: { hide: true }, config: { dashboard: true } }, async (_req, reply) =>
      reply.code(404).type(PROBLEM_CONTENT_TYPE).send(problem('NOT_FOUND', GrpcStatus.NOT_FOUND, 'the dashboard is not built: run `npm run build` (it bundles web/dashboard into dist/dashboard)')),
    );
    return;
  }
  for (const f of loaded) {
    app.get(f.path, { schema: { hide: true }, config: { dashboard: true } }, async (_req, reply) => reply.headers(headers).type(f.type).send(f.body));
  }
}
