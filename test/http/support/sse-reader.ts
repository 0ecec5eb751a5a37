/**
 * A minimal server-sent-events reader over fetch, for tests: frames as they arrive, with their
 * `id`, `event` and `data` fields.
 */

export interface SseFrame {
  readonly id?: string;
  readonly event?: string;
  readonly data: string;
}

export interface SseStream {
  readonly status: number;
  readonly headers: Headers;
  /** The next frame (comment-only frames skipped); undefined when the stream ended. */
  next(timeoutMs?: number): Promise<SseFrame | undefined>;
  close(): void;
}

/** Opens `url` with `Accept: text/event-stream` and the given headers. */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let ended = false;
  // One read at a time, kept across a timeout (and its rejection on close handled), so no read is lost or left unhandled.
  let pending: ReturnType<typeof reader.read> | undefined;
  const parse = (block: string): SseFrame | undefined => {
    let id: string | undefined;
    let event: string | undefined;
    const data: string[] = [];
    let any = false;
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'retry') continue;
      any = true;
    }
    if (!any || (data.length === 0 && event === undefined && id === undefined)) return undefined;
    return { ...(id !== undefined ? { id } : {}), ...(event !== undefined ? { event } : {}), data: data.join('\n') };
  };
  return {
    status: res.status,
    headers: res.headers,
    async next(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        let cut = buffer.indexOf('\n\n');
        while (cut >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const frame = parse(block);
          if (frame !== undefined) return frame;
          cut = buffer.indexOf('\n\n');
        }
        if (ended) return undefined;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no SSE frame within ${timeoutMs} ms`);
        let timer: NodeJS.Timeout | undefined;
        if (pending === undefined) {
          pending = reader.read();
          pending.catch(() => undefined);
        }
        const chunk = await Promise.race([
          pending,
          new Promise<'timeout'>((r) => {
            timer = setTimeout(() => r('timeout'), left);
          }),
        ]);
        clearTimeout(timer);
        if (chunk === 'timeout') throw new Error(`no SSE frame within ${timeoutMs} ms`);
        pending = undefined;
        if (chunk.done) ended = true;
        else buffer += decoder.decode(chunk.value, { stream: true });
      }
    },
    close() {
      abort.abort();
    },
  };
}
