/** The event stream, newest first, with its severity standing out. */
import { html } from 'htm/preact';
import type { StreamState } from './event-stream.js';
import type { GridEvent } from './types.js';

function time(us: number): string {
  return new Date(us / 1000).toLocaleTimeString();
}

export function Events(props: { events: readonly GridEvent[]; stream: { state: StreamState; why: string } }) {
  const shown = props.events.slice(-100).reverse();
  return html`
    <p class="small">
      <span class=${`badge ${props.stream.state === 'live' ? 'healthy' : 'degraded'}`} data-stream=${props.stream.state}>${props.stream.state === 'live' ? 'live' : props.stream.state}</span>
      ${props.stream.why !== '' && props.stream.state !== 'live' ? html` <span class="muted">${props.stream.why}</span>` : null}
    </p>
    ${shown.length === 0 ? html`<p class="muted">No events in the last 30 minutes.</p>` : null}
    <ol class="events">
      ${shown.map(
        (e) => html`<li key=${e.index} class=${`sev-${e.severity}`} data-event-type=${e.type} data-event-node=${e.nodeId}>
          <span class="mono small muted">${time(e.timestampUs)} #${e.index}</span>
          <span class="etype">${e.type}</span>
          <span class="emsg">${e.message}</span>
        </li>`,
      )}
    </ol>
  `;
}
