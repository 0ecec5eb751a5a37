/** The agents table and the topology: which nodes run on which agent, the leaders marked. */
import { html } from 'htm/preact';
import { cordonAction, drainAction } from './actions.js';
import type { PendingAction } from './dialog.js';
import type { Agent, GridNode } from './types.js';

/** How long a crash stays marked on its node after the stream told of it. */
export const CRASH_MARK_MS = 60_000;

function labels(l: Readonly<Record<string, string>>) {
  const entries = Object.entries(l);
  if (entries.length === 0) return html`<span class="muted">none</span>`;
  return entries.map(([k, v]) => html`<span class="chip">${k}=${v}</span>`);
}

function cordonText(a: Agent): string {
  if (a.drain !== '') return `${a.drain}${a.drain === 'draining' ? ` until ${new Date(a.drainDeadlineMs).toLocaleTimeString()}` : ''}`;
  if (a.cordoned) return `cordoned (${a.cordonedBy})`;
  return '';
}

export function AgentsTable(props: { agents: readonly Agent[]; act: (a: PendingAction) => void }) {
  if (props.agents.length === 0) return html`<p class="muted">No agent has registered yet.</p>`;
  return html`
    <div class="table-wrap">
      <table class="agents stack">
        <thead><tr><th>Agent</th><th>Health</th><th>Nodes</th><th>Memory</th><th>Labels</th><th>Address</th><th>Scheduling</th><th></th></tr></thead>
        <tbody>
          ${props.agents.map(
            (a) => html`
              <tr data-agent=${a.id} data-health=${a.status} class=${`health-${a.status}`}>
                <td data-label="Agent"><span><strong>${a.id}</strong><div class="muted small">${a.platform}${a.hostname !== '' ? ` · ${a.hostname}` : ''}</div></span></td>
                <td data-label="Health"><span class=${`badge ${a.status}`}>${a.status}</span></td>
                <td data-label="Nodes">${a.nodes} / ${a.maxNodes}</td>
                <td data-label="Memory">${a.maxMemoryMb > 0 ? `${a.maxMemoryMb} MB` : '—'}</td>
                <td data-label="Labels"><span>${labels(a.labels)}</span></td>
                <td data-label="Address" class="mono">${a.address}</td>
                <td data-label="Scheduling">${cordonText(a) !== '' ? html`<span class="badge warn" title=${a.cordonReason}>${cordonText(a)}</span>` : html`<span class="muted">schedulable</span>`}</td>
                <td class="actions">
                  <button onClick=${() => props.act(cordonAction(a))}>${a.cordoned ? 'Uncordon' : 'Cordon'}</button>
                  <button onClick=${() => props.act(drainAction(a))} disabled=${a.drain !== ''}>Drain</button>
                </td>
              </tr>
            `,
          )}
        </tbody>
      </table>
    </div>
  `;
}

function nodeChip(n: GridNode, crashedAt: number | undefined, now: number) {
  const crashed = crashedAt !== undefined && now - crashedAt < CRASH_MARK_MS;
  const cls = ['node-chip', `status-${n.status}`, n.role === 'leader' ? 'leader' : '', crashed ? 'crashed' : ''].filter((c) => c !== '').join(' ');
  return html`<li class=${cls} data-topo-node=${n.nodeId} title=${`${n.nodeId}: ${n.status}${n.role !== '' ? `, ${n.role}` : ''}, port ${n.port}`}>
    ${n.role === 'leader' ? html`<span class="star" aria-label="leader">★</span>` : null}${n.nodeId}
    <span class="muted small">${n.cluster !== '' ? n.cluster : 'by hand'}</span>
    ${n.status !== 'running' ? html`<span class="small">${n.status}</span>` : null}
  </li>`;
}

export function Topology(props: { agents: readonly Agent[]; nodes: readonly GridNode[]; crashes: ReadonlyMap<string, number> }) {
  const now = Date.now();
  const live = props.nodes.filter((n) => n.status !== 'stopped');
  const known = new Set(props.agents.map((a) => a.id));
  const orphans = live.filter((n) => !known.has(n.agentId));
  return html`
    <div class="topology">
      ${props.agents.map(
        (a) => html`
          <div class=${`agent-card health-${a.status}`} data-topo-agent=${a.id}>
            <div class="agent-head"><strong>${a.id}</strong> <span class=${`badge ${a.status}`}>${a.status}</span>${a.cordoned ? html` <span class="badge warn">${a.drain !== '' ? a.drain : 'cordoned'}</span>` : null}</div>
            <ul class="chips">${live.filter((n) => n.agentId === a.id).map((n) => nodeChip(n, props.crashes.get(n.nodeId), now))}</ul>
          </div>
        `,
      )}
      ${orphans.length > 0 ? html`<div class="agent-card health-offline"><div class="agent-head"><strong>unknown agents</strong></div><ul class="chips">${orphans.map((n) => nodeChip(n, props.crashes.get(n.nodeId), now))}</ul></div>` : null}
    </div>
  `;
}
