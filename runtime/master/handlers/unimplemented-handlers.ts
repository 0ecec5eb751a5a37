import { status as GrpcStatus } from '@grpc/grpc-js';
import type { MasterHandlers } from '../master-context.js';

type Pending = Pick<MasterHandlers, 'applySpec' | 'getSpec' | 'deleteSpec' | 'listEvents' | 'watchEvents' | 'reportNodeEvents'>;

function unimplemented(rpc: string): never {
  const details = `${rpc} is not implemented by this master yet`;
  throw Object.assign(new Error(details), { code: GrpcStatus.UNIMPLEMENTED, details });
}

/**
 * Placeholders for the declarative and event RPCs: UNIMPLEMENTED until their modules land. Replace
 * them by passing a {@link HandlerFactory} to the master (`handlers` option) rather than editing here.
 */
export function createUnimplementedHandlers(): Pending {
  return {
    applySpec: () => unimplemented('ApplySpec'),
    getSpec: () => unimplemented('GetSpec'),
    deleteSpec: () => unimplemented('DeleteSpec'),
    listEvents: () => unimplemented('ListEvents'),
    watchEvents: () => unimplemented('WatchEvents'),
    reportNodeEvents: () => unimplemented('ReportNodeEvents'),
  };
}
