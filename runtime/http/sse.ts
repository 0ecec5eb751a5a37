/**
 * Server-sent events over the master's event watch (the WatchEvents stream's source): each event
 * goes out with its log index as the SSE `id`, so a client that reconnects with `Last-Event-ID`
 * resumes exactly after the last event it received. The watch replays from the log and then
 * follows commits with one cursor (runtime/events/event-query.ts): no gap and no duplicate.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventFilterInput } from '../events/index.js';
import type { MasterApi } from '../master/index.js';
import { problemOf } from './problem.js';
import { eventJson } from './views.js';

/** A comment line this often keeps proxies and idle-timeouts from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

/** Whether the caller asked for a stream (`Accept: text/event-stream`). */
export function wantsEventStream(req: FastifyRequest): boolean {
  const accept = req.headers.accept ?? '';
  return accept.split(',').some((part) => part.trim().split(';')[0]?.trim().toLowerCase() === 'text/event-stream');
}

/**
 * Streams events from index `from` matching `filter` until the client goes away or the master
 * drains. The filter is checked before anything is sent, so a bad one is an ordinary 400.
 */
export async function streamEvents(api: MasterApi, req: FastifyRequest, reply: FastifyReply, from: number, filter: EventFilterInput): Promise<void> {
  const abort = new AbortController();
  const items = api.events.watch(from, filter, abort.signal); // throws EVENTS_INVALID_FILTER now
  const stop = (): void => abort.abort();
  api.stopping.addEventListener('abort', stop, { once: true });
  reply.hijack();
  const res = reply.raw;
  res.on('close', stop);
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
  });
  res.write('retry: 2000\n\n');
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  keepalive.unref();
  const send = async (text: string): Promise<void> => {
    if (res.write(text) || abort.signal.aborted) return;
    // A slow reader: wait for its buffer to drain (or for it to leave) before reading on.
    await new Promise<void>((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        abort.signal.removeEventListener('abort', done);
        resolve();
      };
      res.on('drain', done);
      abort.signal.addEventListener('abort', done, { once: true });
    });
  };
  try {
    for await (const item of items) {
      if (abort.signal.aborted) break;
      if (item.kind === 'start') {
        // Retention removed events the caller asked for: say where the stream really starts.
        if (item.truncated) await send(`event: truncated\ndata: ${JSON.stringify({ requestedIndex: item.requestedIndex, startIndex: item.startIndex })}\n\n`);
        continue;
      }
      await send(`id: ${item.event.index}\ndata: ${JSON.stringify(eventJson(item.event))}\n\n`);
    }
  } catch (err) {
    // Past the headers an error can only be told in the stream (a reader that fell behind retention).
    if (!abort.signal.aborted) res.write(`event: problem\ndata: ${JSON.stringify(problemOf(err))}\n\n`);
    req.log.debug({ err: (err as Error).message }, 'event stream ended by an error');
  } finally {
    clearInterval(keepalive);
    api.stopping.removeEventListener('abort', stop);
    res.end();
  }
}
