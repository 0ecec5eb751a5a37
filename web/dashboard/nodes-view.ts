/** The clusters with their nodes (roles, ports, restarts, replication), and by-hand nodes. */
import { html } from 'htm/preact';
import { promoteAction, restartAction, stopAction } from './actions.js';
import { CRASH_MARK_MS } from './agents-view.js';
import type { PendingAction } from './dialog.js';
import type { ClusterHealth, GridNode } from './types.js';

function replication(n: GridNode) {
  const r = n.replication;
  if (r === undefined || r.role === 'standalone' || r.role === '') return html`<span class="muted">—</span>`;
  const lag = r.role === 'replica' ? Math.max(0, r.leaderLogPosition - r.logPosition) : 0;
  return html`<span class="small">term ${r.term} · log ${r.logPosition}${r.role === 'replica' ? html` · lag ${lag}${r.catchingUp ? ' · catching up' : ''}${r.connected ? '' : html` · <span class="bad">disconnected</span>`}` : ''} · ${r.durability}</span>`;
}

function NodeRow(props: { n: GridNode; crashedAt: number | undefined; act: (a: PendingAction) => void }) {
  const { n } = props;
  const crashed = props.crashedAt !== undefined && Date.now() - props.crashedAt < CRASH_MARK_MS;
  const stopped = n.status === 'stopped';
  return html`
    <tr data-node=${n.nodeId} data-status=${n.status} class=${`status-${n.status}${crashed ? ' crashed' : ''}`}>
      <td data-label="Node"><strong>${n.nodeId}</strong></td>
      <td data-label="Agent">${n.agentId}</td>
      <td data-label="Role">${n.role === 'leader' ? html`<span class="star" aria-label="leader">★</span> leader` : n.role !== '' ? n.role : '—'}</td>
      <td data-label="Status"><span>
        <span class=${`badge ${n.status}`} data-field="status">${n.status}</span>
        ${crashed ? html` <span class="badge bad" data-field="crashed" title=${`crashed at ${new Date(props.crashedAt ?? 0).toLocaleTimeString()}`}>crashed ${new Date(props.crashedAt ?? 0).toLocaleTimeString()}</span>` : null}
        ${n.lastExit !== '' && !crashed ? html`<div class="muted small">last exit: ${n.lastExit}</div>` : null}
      </span></td>
      <td data-label="Port" class="mono">${n.port}</td>
      <td data-label="PID" class="mono" data-field="pid">${n.pid > 0 ? n.pid : '—'}</td>
      <td data-label="Restarts" data-field="restarts">${n.restarts}</td>
      <td data-label="Replication">${replication(n)}</td>
      <td class="actions">
        ${stopped
          ? null
          : html`
              <button onClick=${() => props.act(restartAction(n))}>Restart</button>
              ${n.role === 'replica' ? html`<button onClick=${() => props.act(promoteAction(n))}>Promote</button>` : null}
              <button class="danger" onClick=${() => props.act(stopAction(n))}>Stop</button>
            `}
      </td>
    </tr>
  `;
}

function NodeTable(props: { nodes: readonly GridNode[]; crashes: ReadonlyMap<string, number>; act: (a: PendingAction) => void }) {
  return html`
    <div class="table-wrap">
      <table class="nodes stack">
        <thead><tr><th>Node</th><th>Agent</th><th>Role</th><th>Status</th><th>Port</th><th>PID</th><th>Restarts</th><th>Replication</th><th></th></tr></thead>
        <tbody>${props.nodes.map((n) => html`<${NodeRow} key=${`${n.nodeId}@${n.agentId}`} n=${n} crashedAt=${props.crashes.get(n.nodeId)} act=${props.act} />`)}</tbody>
      </table>
    </div>
  `;
}

export function Clusters(props: { nodes: readonly GridNode[]; clusters: readonly ClusterHealth[]; crashes: ReadonlyMap<string, number>; act: (a: PendingAction) => void }) {
  const names = [...new Set([...props.clusters.map((c) => c.name), ...props.nodes.map((n) => n.cluster).filter((c) => c !== '')])].sort();
  const byHand = props.nodes.filter((n) => n.cluster === '');
  return html`
    ${names.length === 0 && byHand.length === 0 ? html`<p class="muted">No nodes yet: apply a spec (Plan below) or spawn one.</p>` : null}
    ${names.map((name) => {
      const c = props.clusters.find((x) => x.name === name);
      const nodes = props.nodes.filter((n) => n.cluster === name);
      return html`
        <section class="cluster" data-cluster=${name}>
          <h3>${name} ${c !== undefined ? html`<span class=${`badge ${c.health}`}>${c.health}</span> <span class="muted small">${c.running}/${c.desired} running${c.leaderNodeId !== '' ? ` · leader ${c.leaderNodeId}` : ''}</span>` : html`<span class="muted small">not in the applied spec</span>`}</h3>
          <${NodeTable} nodes=${nodes} crashes=${props.crashes} act=${props.act} />
        </section>
      `;
    })}
    ${byHand.length > 0
      ? html`<section class="cluster" data-cluster=""><h3>Spawned by hand <span class="muted small">no cluster</span></h3><${NodeTable} nodes=${byHand} crashes=${props.crashes} act=${props.act} /></section>`
      : null}
  `;
}
