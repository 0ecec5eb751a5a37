/**
 * Follows `GET /api/grid/events` as server-sent events. Read with fetch rather than EventSource,
 * which cannot send the bearer token; the stream is parsed here (the SSE format: `id:`, `event:`,
 * `data:` lines, a blank line ending each message). After a drop it reconnects with the
 * `Last-Event-ID` of the last event it got, so the master resumes with no gap.
 */
import { authHeaders } from './api.js';
import type { GridEvent } from './types.js';

export type StreamState = 'connecting' | 'live' | 'retrying';

export interface StreamHandlers {
  /** One event, in log order. */
  event(e: GridEvent): void;
  state(s: StreamState, why?: string): void;
}

/** Between reconnects; the server's `retry:` line may change it. */
const DEFAULT_RETRY_MS = 2000;

/**
 * Streams events from `since` back (a duration like `15m`), then live, until `signal` aborts.
 * Never rejects.
 */
export async function followEvents(since: string, h: StreamHandlers, signal: AbortSignal): Promise<void> {
  let lastId: string | undefined;
  let retryMs = DEFAULT_RETRY_MS;
  while (!signal.aborted) {
    h.state('connecting');
    try {
      const query = lastId === undefined ? `?since=${encodeURIComponent(since)}` : '';
      const res = await fetch(`/api/grid/events${query}`, {
        headers: { accept: 'text/event-stream', ...authHeaders(), ...(lastId !== undefined ? { 'last-event-id': lastId } : {}) },
        signal,
        cache: 'no-store',
      });
      if (!res.ok || res.body === null) {
        const detail = await res.text().then((t) => (JSON.parse(t) as { detail?: string }).detail ?? t).catch(() => `HTTP ${res.status}`);
        h.state('retrying', detail);
      } else {
        h.state('live');
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
            const msg = parseBlock(block);
            if (msg.retry !== undefined) retryMs = msg.retry;
            if (msg.id !== undefined) lastId = msg.id;
            if (msg.data === undefined) continue;
            if (msg.event === undefined || msg.event === 'message') h.event(JSON.parse(msg.data) as GridEvent);
            else if (msg.event === 'problem') h.state('retrying', (JSON.parse(msg.data) as { detail?: string }).detail);
          }
        }
        h.state('retrying', 'the event stream ended');
      }
    } catch (err) {
      if (signal.aborted) return;
      h.state('retrying', (err as Error).message);
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, retryMs);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
  }
}

/** One SSE message's fields (comments and unknown fields are skipped, as the format says). */
function parseBlock(block: string): { id?: string; event?: string; data?: string; retry?: number } {
  const out: { id?: string; event?: string; data?: string; retry?: number } = {};
  for (const line of block.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') out.id = value;
    else if (field === 'event') out.event = value;
    else if (field === 'data') out.data = out.data === undefined ? value : `${out.data}\n${value}`;
    else if (field === 'retry' && /^\d+$/.test(value)) out.retry = Number(value);
  }
  return out;
}
