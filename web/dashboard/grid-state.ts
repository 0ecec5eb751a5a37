/**
 * The grid as the page shows it: agents, nodes and status read from the API, re-read whenever the
 * event stream says something happened (debounced, one read at a time), and the recent events.
 * No timer polls: without events nothing is re-read.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, problemText } from './api.js';
import { followEvents, type StreamState } from './event-stream.js';
import type { Agent, GridEvent, GridNode, GridStatus } from './types.js';

/** Events the page keeps (the newest). */
const MAX_EVENTS = 300;
/** How far back the event list starts when the page opens. */
const HISTORY = '30m';
/** Events arriving within this of each other cause one re-read. */
const DEBOUNCE_MS = 150;

export interface GridView {
  readonly agents: readonly Agent[];
  readonly nodes: readonly GridNode[];
  readonly status: GridStatus | undefined;
  readonly events: readonly GridEvent[];
  readonly stream: { readonly state: StreamState; readonly why: string };
  /** Why the last read failed ('' when it did not). */
  readonly error: string;
  /** The last crash the stream told of, per node id (ms since the epoch). */
  readonly crashes: ReadonlyMap<string, number>;
  readonly loaded: boolean;
}

const EMPTY: GridView = { agents: [], nodes: [], status: undefined, events: [], stream: { state: 'connecting', why: '' }, error: '', crashes: new Map(), loaded: false };

/** The live grid; `session` changes (a new token) restart the reads and the stream. */
export function useGrid(session: number): { view: GridView; refresh: () => void } {
  const [view, setView] = useState<GridView>(EMPTY);
  const reader = useRef<() => void>(() => undefined);

  useEffect(() => {
    const abort = new AbortController();
    let reading = false;
    let again = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = async (): Promise<void> => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      try {
        const [a, n, s] = await Promise.all([
          api<{ agents: Agent[] }>('agents'),
          api<{ nodes: GridNode[] }>('nodes'),
          api<GridStatus>('status'),
        ]);
        if (!abort.signal.aborted) setView((v) => ({ ...v, agents: a.agents, nodes: n.nodes, status: s, error: '', loaded: true }));
      } catch (err) {
        if (!abort.signal.aborted) setView((v) => ({ ...v, error: problemText(err), loaded: true }));
      } finally {
        reading = false;
        if (again && !abort.signal.aborted) {
          again = false;
          void read();
        }
      }
    };
    const soon = (): void => {
      if (timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        void read();
      }, DEBOUNCE_MS);
    };
    reader.current = () => void read();
    setView(EMPTY);
    void read();
    void followEvents(
      HISTORY,
      {
        event(e) {
          setView((v) => {
            const crashes = e.type === 'NodeCrashed' ? new Map(v.crashes).set(e.nodeId, e.timestampUs / 1000) : v.crashes;
            const events = v.events.length >= MAX_EVENTS ? [...v.events.slice(v.events.length - MAX_EVENTS + 1), e] : [...v.events, e];
            return { ...v, events, crashes };
          });
          soon();
        },
        state(state, why = '') {
          setView((v) => ({ ...v, stream: { state, why } }));
          // Whatever happened while the stream was down is read again once it is back.
          if (state === 'live') soon();
        },
      },
      abort.signal,
    );
    return () => {
      abort.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [session]);

  return { view, refresh: () => reader.current() };
}
