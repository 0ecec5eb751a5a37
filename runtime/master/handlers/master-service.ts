import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { GridMasterService } from '../../../proto/gen/sutra/grid/v1/grid.pb.js';
import { wrapService } from '../../common/grpc-server.js';
import type { CallGuard } from '../../common/call-guard.js';
import { RuntimeError } from '../../errors.js';
import type { MasterContext } from '../master-context.js';
import { serializeEncodedPlans } from './encoded-plan.js';
import { serializeSlicedLists } from './sliced-lists.js';
import { createAgentHandlers } from './agent-handlers.js';
import type { HandlerFactory, MasterHandlers } from './master-handlers.js';
import { createNodeHandlers } from './node-handlers.js';

/**
 * Merges handler modules into one GridMaster implementation in which every RPC is named exactly
 * once: a handler defined by two modules, or an RPC no module defines, is refused at start-up
 * instead of one module silently replacing another's handler.
 * @throws GridError INTERNAL naming the RPC.
 */
export function mergeHandlers(parts: readonly Partial<MasterHandlers>[], rpcs: readonly string[] = Object.keys(GridMasterService)): MasterHandlers {
  const merged: Record<string, unknown> = {};
  const from = new Map<string, number>();
  parts.forEach((part, i) => {
    for (const [name, handler] of Object.entries(part)) {
      const earlier = from.get(name);
      if (earlier !== undefined) throw new RuntimeError('INTERNAL', `GridMaster handler ${name} is defined by handler modules ${earlier} and ${i}`, { field: name });
      merged[name] = handler;
      from.set(name, i);
    }
  });
  const missing = rpcs.filter((name) => !from.has(name));
  if (missing.length > 0) throw new RuntimeError('INTERNAL', `GridMaster handlers missing for ${missing.join(', ')}`, { field: missing[0] });
  return merged as unknown as MasterHandlers;
}

/** The GridMaster handlers: the master's own modules, then the declarative, cordon and event ones. */
export function assembleMasterHandlers(ctx: MasterContext, extra: readonly HandlerFactory[] = []): MasterHandlers {
  return mergeHandlers([createAgentHandlers, createNodeHandlers, ...extra].map((factory) => factory(ctx)));
}

/**
 * The GridMaster service ready for `startGrpcServer`: caller check (the token, or with TLS the
 * `guard`'s certificates and role table) and error mapping applied.
 */
export function createMasterService(
  ctx: MasterContext,
  extra: readonly HandlerFactory[] = [],
  gate?: (rpc: string) => void,
  guard?: CallGuard,
  refused?: Refused,
): { definition: typeof GridMasterService; impl: UntypedServiceImplementation } {
  const handlers = gated(assembleMasterHandlers(ctx, extra), gate, refused);
  return {
    definition: serializeSlicedLists(serializeEncodedPlans(GridMasterService)),
    impl: wrapService(GridMasterService, handlers as unknown as Record<string, (...args: never[]) => unknown>, guard ?? ctx.options.token),
  };
}

/** Another answer to a call the gate refused (a follower's forwarded read), or undefined: refused. */
export type Refused = (rpc: string, args: readonly unknown[]) => Promise<unknown> | undefined;

/**
 * Every handler behind `gate` (e.g. "this master must lead"), which throws to refuse the call
 * before the handler runs; the error reaches the caller as the handler's own would, unless
 * `refused` answers the call otherwise.
 */
function gated(handlers: MasterHandlers, gate: ((rpc: string) => void) | undefined, refused: Refused | undefined): MasterHandlers {
  if (gate === undefined) return handlers;
  const out: Record<string, unknown> = {};
  for (const [name, handler] of Object.entries(handlers as unknown as Record<string, (...args: unknown[]) => unknown>)) {
    out[name] = (...args: unknown[]): unknown => {
      try {
        gate(name);
      } catch (err) {
        const answer = refused?.(name, args);
        if (answer !== undefined) return answer;
        throw err;
      }
      return handler(...args);
    };
  }
  return out as unknown as MasterHandlers;
}
