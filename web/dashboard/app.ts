/** The dashboard: the grid's state, live, with the operator's actions and the plan view. */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { setToken, token } from './api.js';
import { AgentsTable, Topology } from './agents-view.js';
import { spawnAction } from './actions.js';
import { ConfirmDialog, type PendingAction } from './dialog.js';
import { Events } from './events-view.js';
import { useGrid } from './grid-state.js';
import { Clusters } from './nodes-view.js';
import { PlanView } from './plan-view.js';
import type { Agent } from './types.js';

function TokenForm(props: { saved: () => void }) {
  const [value, setValue] = useState(token());
  return html`
    <form class="token" onSubmit=${(e: Event) => {
      e.preventDefault();
      setToken(value.trim());
      props.saved();
    }}>
      <label>Token <input type="password" name="token" autocomplete="off" value=${value} placeholder="bearer token, if the master has one"
        onInput=${(e: Event) => setValue((e.target as HTMLInputElement).value)} /></label>
      <button type="submit">Use</button>
    </form>
  `;
}

function SpawnForm(props: { agents: readonly Agent[]; act: (a: PendingAction) => void }) {
  const [agent, setAgent] = useState('');
  const [nodeId, setNodeId] = useState('');
  const choice = agent !== '' && props.agents.some((a) => a.id === agent) ? agent : (props.agents.find((a) => a.status === 'healthy' && !a.cordoned)?.id ?? props.agents[0]?.id ?? '');
  return html`
    <form class="spawn" onSubmit=${(e: Event) => {
      e.preventDefault();
      if (choice !== '') props.act(spawnAction(choice, nodeId.trim()));
    }}>
      <label>Agent <select name="agent" value=${choice} onChange=${(e: Event) => setAgent((e.target as HTMLSelectElement).value)}>
        ${props.agents.map((a) => html`<option value=${a.id}>${a.id} (${a.status}${a.cordoned ? ', cordoned' : ''})</option>`)}
      </select></label>
      <label>Node id <input name="nodeId" value=${nodeId} placeholder="optional" onInput=${(e: Event) => setNodeId((e.target as HTMLInputElement).value)} /></label>
      <button type="submit" class="primary" disabled=${choice === ''}>Spawn…</button>
    </form>
  `;
}

export function App() {
  const [session, setSession] = useState(0);
  const { view, refresh } = useGrid(session);
  const [pending, setPending] = useState<PendingAction | undefined>(undefined);
  const [notice, setNotice] = useState('');
  const s = view.status;
  const close = (done?: string): void => {
    setPending(undefined);
    if (done !== undefined) {
      setNotice(done);
      refresh();
    }
  };
  return html`
    <header>
      <h1>Sutra Grid</h1>
      ${s !== undefined
        ? html`<div class="summary">
            <span class=${`badge ${s.health}`} data-grid-health=${s.health}>${s.health}</span>
            <span>agents ${s.agents.healthy}/${s.agents.total} healthy${s.agents.degraded > 0 ? html`, <span class="warn-text">${s.agents.degraded} degraded</span>` : ''}${s.agents.offline > 0 ? html`, <span class="bad">${s.agents.offline} offline</span>` : ''}</span>
            <span>nodes ${s.nodes.running}/${s.nodes.total} running${s.nodes.failed > 0 ? html`, <span class="bad">${s.nodes.failed} failed</span>` : ''}</span>
            <span>spec generation ${s.specGeneration}${s.reconcile.pendingActions > 0 ? ` · ${s.reconcile.pendingActions} actions pending` : ''}</span>
          </div>`
        : null}
      <${TokenForm} saved=${() => setSession(session + 1)} />
    </header>
    ${view.error !== '' ? html`<p class="problem banner" role="alert">${view.error}</p>` : null}
    ${notice !== '' ? html`<p class="notice" role="status">${notice} <button class="link" onClick=${() => setNotice('')}>dismiss</button></p>` : null}
    ${s !== undefined && s.reconcile.unplaced.length > 0
      ? html`<p class="problem banner">${s.reconcile.unplaced.map((u) => `${u.cluster}: ${u.nodeIds.join(', ')} cannot be placed${u.reason !== undefined && u.reason !== '' ? ` (${u.reason})` : ''}`).join('; ')}</p>`
      : null}
    <main>
      <div class="col-main">
        <section id="topology"><h2>Topology</h2><${Topology} agents=${view.agents} nodes=${view.nodes} crashes=${view.crashes} /></section>
        <section id="agents"><h2>Agents</h2><${SpawnForm} agents=${view.agents} act=${setPending} /><${AgentsTable} agents=${view.agents} act=${setPending} /></section>
        <section id="clusters"><h2>Clusters and nodes</h2><${Clusters} nodes=${view.nodes} clusters=${s?.clusters ?? []} crashes=${view.crashes} act=${setPending} /></section>
        <section id="plan"><h2>Plan and apply</h2><${PlanView} act=${setPending} /></section>
      </div>
      <aside class="col-side"><section id="events"><h2>Events</h2><${Events} events=${view.events} stream=${view.stream} /></section></aside>
    </main>
    ${pending !== undefined ? html`<${ConfirmDialog} key=${pending.title} action=${pending} close=${close} />` : null}
  `;
}
