import type { ServerWritableStream } from '@grpc/grpc-js';
import type { WatchEventsRequest, WatchEventsResponse } from '../../../proto/gen/sutra/grid/v1/grid.pb.js';
import {
  EventError,
  eventErrorGrpcStatus,
  eventsFromReport,
  listRequestFromProto,
  toProtoListResponse,
  toProtoWatchItem,
  watchRequestFromProto,
  type EventBus,
  type EventInput,
} from '../../events/index.js';
import type { HandlerFactory } from './master-handlers.js';
import { requireKnownAgent } from './request-checks.js';

/** EventErrors cross the wire with their own status (INVALID_ARGUMENT naming the filter, ...). */
function asGrpc(err: unknown): unknown {
  if (!(err instanceof EventError)) return err;
  return Object.assign(new Error(err.message), { code: eventErrorGrpcStatus(err.code), details: err.message });
}

/** ReportNodeEvents, ListEvents and WatchEvents over the bus. Watches end when `stop` aborts. */
export function eventHandlers(bus: EventBus, stop: AbortSignal): HandlerFactory {
  return (ctx) => ({
    reportNodeEvents: (req) => {
      // Only a registered agent reports; an unknown one is NOT_FOUND (it re-registers) and nothing is recorded.
      requireKnownAgent(ctx.registry, 'agent_id', req.agentId);
      let inputs: EventInput[];
      try {
        inputs = eventsFromReport(req);
      } catch (err) {
        throw asGrpc(err);
      }
      for (const e of inputs) bus.emit(e);
      return {};
    },
    listEvents: async (req) => {
      try {
        const { filter, options } = listRequestFromProto(req);
        return toProtoListResponse(await bus.list(filter, options));
      } catch (err) {
        throw asGrpc(err);
      }
    },
    watchEvents: async (call: ServerWritableStream<WatchEventsRequest, WatchEventsResponse>) => {
      const abort = new AbortController();
      // A draining master ends its watch streams, or the server would wait on them until forced.
      const onStop = (): void => abort.abort();
      stop.addEventListener('abort', onStop, { once: true });
      call.on('cancelled', () => abort.abort());
      call.on('close', () => abort.abort());
      try {
        const { fromIndex, filter } = watchRequestFromProto(call.request);
        for await (const item of bus.watch(fromIndex, filter, abort.signal)) {
          if (abort.signal.aborted) break;
          if (!call.write(toProtoWatchItem(item))) await new Promise((r) => call.once('drain', r));
        }
        call.end();
      } catch (err) {
        throw asGrpc(err);
      } finally {
        stop.removeEventListener('abort', onStop);
      }
    },
  });
}
