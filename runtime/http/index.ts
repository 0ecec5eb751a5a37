/**
 * The master's HTTP API and Prometheus metrics: public face of runtime/http. The entry points
 * (`sutra-grid master --http`, `sutra-grid up`) hand {@link masterHttpDeps} to the master, which
 * starts and closes the server itself; the master imports nothing from here.
 */
import type { MasterDeps } from '../master/index.js';
import { GridMetrics } from './metrics.js';
import { startHttpServer } from './server.js';

export { GridMetrics } from './metrics.js';
export { buildHttpApp, startHttpServer, API_PREFIX, JSON_BODY_LIMIT } from './server.js';
export { GRID_ROUTES, ACTIONS, type ActionDef, type GridRoute, type Access } from './routes/index.js';
export { problemOf, httpStatusOf, type Problem } from './problem.js';

/** The master's `metrics` and `http` deps: one private metrics registry, served by the HTTP API. */
export function masterHttpDeps(): Required<Pick<MasterDeps, 'metrics' | 'http'>> {
  const metrics = new GridMetrics();
  return { metrics, http: (api, listen) => startHttpServer(api, listen, metrics) };
}
