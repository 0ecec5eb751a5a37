/**
 * The master's HTTP API: fastify on the `--http` address, the routes of routes/ under `/api/grid`,
 * their OpenAPI document, and `/metrics`. Started and closed by the master (it is a
 * {@link MasterFrontEnd}); every route calls the master's own services (see MasterApi).
 */
import type { SecureContextOptions } from 'node:tls';
import type { Server as HttpsServer } from 'node:https';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { MAX_SPEC_BYTES } from '../../client/transport.js';
import { splitHostPort } from '../common/grpc-server.js';
import { RuntimeError } from '../errors.js';
import type { HttpCredentials, MasterApi, MasterFrontEnd } from '../master/index.js';
import { registerDashboard } from './dashboard.js';
import { guard } from './guard.js';
import type { GridMetrics } from './metrics.js';
import { PROBLEM_CONTENT_TYPE, problem, problemOf, type Problem } from './problem.js';
import { GRID_ROUTES } from './routes/index.js';
import type { GridRoute } from './routes/grid-route.js';

/** Prefix of every API route. */
export const API_PREFIX = '/api/grid';

/** Largest JSON body of the routes that take no spec: a spawn or stop is a few hundred bytes. */
export const JSON_BODY_LIMIT = 64 * 1024;

/** Content types a spec body may come as. Not text/plain: a form on another site can send that. */
const SPEC_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'application/json'];

/** A fastify error (validation, body limits, media types) as a problem; undefined for the rest. */
function fastifyProblem(err: FastifyError): Problem | undefined {
  if (err.validation !== undefined && err.validation.length > 0) {
    const v = err.validation[0]!;
    const params = v.params as { missingProperty?: string; additionalProperty?: string };
    const path = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    const field = params.missingProperty ?? params.additionalProperty ?? (path !== '' ? path : (err.validationContext ?? 'body'));
    const what = params.additionalProperty !== undefined ? 'is not a known field' : params.missingProperty !== undefined ? 'is required' : (v.message ?? 'is invalid');
    return problem('INVALID_ARGUMENT', GrpcStatus.INVALID_ARGUMENT, `${field}: ${what} (in the ${err.validationContext ?? 'request'})`, { field });
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem('BODY_TOO_LARGE', GrpcStatus.RESOURCE_EXHAUSTED, `body: larger than this route takes (${err.message})`, { field: 'body', status: 413 });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem('UNSUPPORTED_MEDIA_TYPE', GrpcStatus.INVALID_ARGUMENT, `Content-Type: ${err.message}`, { field: 'Content-Type', status: 415 });
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return problem(err.code ?? 'INVALID_ARGUMENT', GrpcStatus.INVALID_ARGUMENT, err.message, { field: 'body', status: err.statusCode });
  }
  return undefined;
}

function addRoute(app: FastifyInstance, api: MasterApi, r: GridRoute): void {
  app.route({
    method: r.method,
    url: r.url,
    schema: { ...r.schema, summary: r.summary },
    config: { access: r.access },
    ...(r.specBody === true ? { bodyLimit: MAX_SPEC_BYTES } : {}),
    // A POST without a body is an empty object: the answer then names the missing field.
    ...(r.method === 'POST' && r.specBody !== true
      ? {
          preValidation: async (req: FastifyRequest) => {
            req.body ??= {};
          },
        }
      : {}),
    handler: (req: FastifyRequest, reply: FastifyReply) => r.handler(api, req, reply),
  });
}

/** The master's certificate and the grid CA, as the HTTPS server presents and checks them. */
function secureContextOf(creds: HttpCredentials): SecureContextOptions {
  const m = creds.tls.material;
  return { key: m.keyPem, cert: m.certPem, ca: m.caPem };
}

/**
 * Serves HTTPS with the master's certificate (its renewals taken while the server runs), asking
 * every client for a certificate of the grid CA without insisting: a browser comes with an API
 * token instead, and the guard decides (runtime/http/guard.ts).
 */
function useRotation(app: FastifyInstance, creds: HttpCredentials): void {
  const server = app.server as unknown as HttpsServer;
  const renewed = (update: unknown): void => {
    if (update !== null) server.setSecureContext(secureContextOf(creds));
  };
  creds.tls.addIdentityCertificateListener(renewed);
  app.addHook('onClose', async () => creds.tls.removeIdentityCertificateListener(renewed));
}

/** Builds the app (not listening yet): the tests' `inject` and {@link startHttpServer} share it. */
export async function buildHttpApp(api: MasterApi, metrics: GridMetrics): Promise<FastifyInstance> {
  const token = api.options.token;
  const creds = api.credentials;
  const app = Fastify({
    ...(creds !== undefined ? { https: { ...secureContextOf(creds), requestCert: true, rejectUnauthorized: false } } : {}),
    loggerInstance: api.logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), bodyLimit: JSON_BODY_LIMIT,
    return503OnClosing: true,
    // An unknown field is refused, not silently dropped (fastify's default removes it).
    ajv: { customOptions: { removeAdditional: false } },
  }) as unknown as FastifyInstance;
  if (creds !== undefined) useRotation(app, creds);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Sutra Grid master API', version: '1', description: 'The grid master over HTTP: the same services, errors, token and roles as its gRPC API.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      ...(token !== undefined || creds !== undefined ? { security: [{ bearer: [] }] } : {}),
    },
  });
  // Bodies are JSON (or, for specs, YAML): never text/plain, which a form on another site can send.
  app.removeContentTypeParser('text/plain');
  app.addHook('onRequest', guard(token, creds));
  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    const p = fastifyProblem(err) ?? problemOf(err);
    if (p.status >= 500) req.log.error({ err: err.message, url: req.url }, 'HTTP API request failed');
    return reply.code(p.status).type(PROBLEM_CONTENT_TYPE).send(p);
  });
  app.setNotFoundHandler(async (req, reply) =>
    reply.code(404).type(PROBLEM_CONTENT_TYPE).send(problem('NOT_FOUND', GrpcStatus.NOT_FOUND, `no route ${req.method} ${req.url.split('?')[0] ?? ''}`)),
  );
  await app.register(
    async (grid) => {
      for (const r of GRID_ROUTES) if (r.specBody !== true) addRoute(grid, api, r);
      // Spec bodies are text (YAML, or JSON, which is YAML too), parsed by the spec layer itself.
      await grid.register(async (specs) => {
        specs.removeAllContentTypeParsers();
        specs.addContentTypeParser(SPEC_TYPES, { parseAs: 'string', bodyLimit: MAX_SPEC_BYTES }, (_req, body, done) => done(null, body));
        for (const r of GRID_ROUTES) if (r.specBody === true) addRoute(specs, api, r);
      });
      grid.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    },
    { prefix: API_PREFIX },
  );
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => reply.type(metrics.contentType).send(await metrics.render()));
  registerDashboard(app);
  return app;
}

/** Starts the HTTP API on `listen` (HOST:PORT, port 0 = a free one). */
export async function startHttpServer(api: MasterApi, listen: string, metrics: GridMetrics): Promise<MasterFrontEnd> {
  const { host, port } = splitHostPort(listen, '--http');
  const app = await buildHttpApp(api, metrics);
  try {
    await app.listen({ host: host.replace(/^\[(.*)\]$/, '$1'), port });
  } catch (err) {
    await app.close().catch(() => undefined);
    throw new RuntimeError('CONFIG_INVALID', `--http: cannot listen on ${listen}: ${(err as Error).message}`, { field: '--http' }, { cause: err });
  }
  const bound = app.server.address();
  const address = typeof bound === 'object' && bound !== null ? `${host}:${bound.port}` : listen;
  metrics.attach(api);
  let closing: Promise<void> | undefined;
  return {
    address,
    close(timeoutMs: number): Promise<void> {
      closing ??= (async () => {
        await metrics.detach();
        // Streams end with the master's abort; whatever is still open after the timeout is cut.
        const force = setTimeout(() => app.server.closeAllConnections(), timeoutMs);
        force.unref();
        try {
          await app.close();
        } finally {
          clearTimeout(force);
        }
      })().catch((err: unknown) => api.logger.error({ err: (err as Error).message }, 'HTTP API close failed'));
      return closing;
    },
  };
}
