/**
 * The table of API routes under `/api/grid`. A new operation of the master becomes one entry here
 * (or one line in node-actions.ts' ACTIONS for `POST /nodes/:id/<verb>` and `/agents/:id/<verb>`).
 */
import { EVENT_ROUTES } from './event-routes.js';
import { READ_ROUTES } from './grid-read.js';
import type { GridRoute } from './grid-route.js';
import { NODE_ROUTES } from './node-actions.js';
import { SPEC_ROUTES } from './spec-routes.js';

export const GRID_ROUTES: readonly GridRoute[] = [...READ_ROUTES, ...EVENT_ROUTES, ...NODE_ROUTES, ...SPEC_ROUTES];

export { ACTIONS, actionRoute, type ActionDef } from './node-actions.js';
export type { GridRoute, Access } from './grid-route.js';
