import type { ClientReadableStream } from '@grpc/grpc-js';
import type { Event, EventFilter, WatchEventsResponse } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { GridMasterClient } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { isoMicros } from '../events/index.js';
import { authMetadata, clientChannelOptions, insecureCredentials } from '../../client/transport.js';

/** One readable line per event, e.g. `2026-11-26T09:30:00.123456Z #42 warning NodeCrashed kg-1 ...`. */
export function formatWireEvent(e: Event): string {
  const series = e.count > 1 ? ` [x${e.count}, last ${isoMicros(e.lastSeenUs)}]` : '';
  return `${isoMicros(e.timestampUs)} #${e.index} ${e.severity.padEnd(7)} ${e.type} ${e.message}${series}`;
}

/** An event as `--json` prints it: the wire fields, payload parsed. */
export function eventJson(e: Event): Record<string, unknown> {
  let payload: unknown = {};
  try {
    payload = e.payloadJson === '' ? {} : JSON.parse(e.payloadJson);
  } catch {
    payload = e.payloadJson;
  }
  const { payloadJson: _omit, ...rest } = e;
  return { ...rest, payload };
}

export interface WatchHandlers {
  onEvent(e: Event): void;
  /** The stream starts later than asked: retention removed the events in between. */
  onTruncated?(requested: number, start: number): void;
}

/**
 * Follows WatchEvents from `fromIndex` until `signal` aborts (also before the call) or the master
 * ends the stream. Resolves on a clean end; rejects with the gRPC error otherwise.
 */
export function followEvents(
  address: string,
  token: string | undefined,
  fromIndex: number,
  filter: EventFilter | undefined,
  handlers: WatchHandlers,
  signal: AbortSignal,
): Promise<void> {
  // An abort that came before the stream exists has no stream to cancel: the watch would run on.
  if (signal.aborted) return Promise.resolve();
  const client = new GridMasterClient(address, insecureCredentials, clientChannelOptions());
  return new Promise<void>((resolve, reject) => {
    const stream: ClientReadableStream<WatchEventsResponse> = client.watchEvents({ fromIndex, filter }, authMetadata(token));
    const onAbort = (): void => stream.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    const finish = (err?: unknown): void => {
      signal.removeEventListener('abort', onAbort);
      client.close();
      if (err === undefined || signal.aborted) resolve();
      else reject(err);
    };
    stream.on('data', (m: WatchEventsResponse) => {
      if (m.start !== undefined && m.start.truncated) handlers.onTruncated?.(m.start.requestedIndex, m.start.startIndex);
      if (m.event !== undefined) handlers.onEvent(m.event);
    });
    stream.on('error', (err) => finish(err));
    stream.on('end', () => finish());
  });
}
