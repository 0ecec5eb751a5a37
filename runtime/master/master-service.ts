import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { GridMasterService } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { wrapService } from '../common/grpc-server.js';
import { createAgentHandlers } from './handlers/agent-handlers.js';
import { createNodeHandlers } from './handlers/node-handlers.js';
import { createQueryHandlers } from './handlers/query-handlers.js';
import { createUnimplementedHandlers } from './handlers/unimplemented-handlers.js';
import type { HandlerFactory, MasterContext, MasterHandlers } from './master-context.js';

/**
 * Assembles the GridMaster handlers from the handler modules, later factories overriding earlier
 * ones (this is how the declarative and event modules replace the UNIMPLEMENTED placeholders).
 */
export function assembleMasterHandlers(ctx: MasterContext, extra: readonly HandlerFactory[] = []): MasterHandlers {
  let handlers: MasterHandlers = {
    ...createUnimplementedHandlers(),
    ...createAgentHandlers(ctx),
    ...createNodeHandlers(ctx),
    ...createQueryHandlers(ctx),
  };
  for (const factory of extra) handlers = { ...handlers, ...factory(ctx) };
  return handlers;
}

/** The GridMaster service ready for `startGrpcServer`: token check and error mapping applied. */
export function createMasterService(
  ctx: MasterContext,
  extra: readonly HandlerFactory[] = [],
): { definition: typeof GridMasterService; impl: UntypedServiceImplementation } {
  const handlers = assembleMasterHandlers(ctx, extra);
  return {
    definition: GridMasterService,
    impl: wrapService(GridMasterService, handlers as unknown as Record<string, (...args: never[]) => unknown>, ctx.options.token),
  };
}
