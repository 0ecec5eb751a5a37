/**
 * The plan view: a grid.yaml pasted, uploaded or loaded from the applied spec, planned by the
 * master (`POST plan`) and shown as the CLI shows it (the server renders the text with the CLI's
 * renderer), then applied with the generation it was planned against (`POST apply`).
 */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, ApiError, problemText } from './api.js';
import type { PendingAction } from './dialog.js';
import type { PlanAnswer } from './types.js';

/** A class for a plan line by its leading symbol, as the CLI colours them. */
function lineClass(line: string): string {
  const t = line.trimStart();
  if (t.startsWith('-/+') || t.startsWith('~')) return 'plan-change';
  if (t.startsWith('+')) return 'plan-create';
  if (t.startsWith('-')) return 'plan-destroy';
  return '';
}

export function PlanView(props: { act: (a: PendingAction) => void }) {
  const [text, setText] = useState('');
  const [plan, setPlan] = useState<PlanAnswer | undefined>(undefined);
  const [error, setError] = useState<{ text: string; diagnostics: readonly string[] } | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const fail = (err: unknown): void => {
    setPlan(undefined);
    setError({ text: problemText(err), diagnostics: err instanceof ApiError ? (err.problem.diagnostics ?? []).map((d) => d.text) : [] });
  };
  const doPlan = async (): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      setPlan(await api<PlanAnswer>('plan', { yaml: text }));
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  };
  const loadApplied = async (): Promise<void> => {
    try {
      const s = await api<{ spec: unknown; generation: number }>('spec');
      // JSON is YAML: the applied spec goes back into the editor as it is stored.
      setText(s.spec === null ? '' : JSON.stringify(s.spec, null, 2));
      setPlan(undefined);
    } catch (err) {
      fail(err);
    }
  };
  const upload = async (e: Event): Promise<void> => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (file === undefined) return;
    setText(await file.text());
    setPlan(undefined);
  };
  const apply = (p: PlanAnswer): void => {
    const spec = text;
    props.act({
      title: 'Apply this spec',
      text: `Store it as the next generation (after ${p.generation}); the reconciler then converges the grid to it. Refused if someone applied another spec since this plan.`,
      confirm: 'Apply',
      danger: true,
      async run() {
        const r = await api<{ generation: number; changed: boolean }>(`apply?expectedGeneration=${p.generation}`, { yaml: spec });
        setPlan(undefined);
        return r.changed ? `applied generation ${r.generation}` : `nothing changed (generation ${r.generation})`;
      },
    });
  };

  return html`
    <div class="plan">
      <div class="plan-input">
        <textarea aria-label="grid.yaml" name="spec" spellcheck="false" placeholder="Paste a grid.yaml here, upload one, or load the applied spec"
          value=${text} onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}></textarea>
        <div class="buttons">
          <label class="file">Upload grid.yaml <input type="file" accept=".yaml,.yml,.json,application/yaml,application/json" onChange=${upload} /></label>
          <button onClick=${loadApplied}>Load applied spec</button>
          <button class="primary" onClick=${doPlan} disabled=${busy || text.trim() === ''} data-plan>${busy ? 'Planning…' : 'Plan'}</button>
        </div>
      </div>
      ${error !== undefined
        ? html`<div class="problem" role="alert"><p>${error.text}</p>${error.diagnostics.length > 0 ? html`<pre class="diagnostics">${error.diagnostics.join('\n')}</pre>` : null}</div>`
        : null}
      ${plan !== undefined
        ? html`
            <div class="plan-output">
              ${plan.warnings.length > 0 ? html`<pre class="warnings">${plan.warnings.join('\n')}</pre>` : null}
              <pre class="plan-text" data-plan-text>${plan.text.split('\n').map((l) => html`<span class=${lineClass(l)}>${`${l}\n`}</span>`)}</pre>
              <div class="buttons">
                <span class="muted small">planned against generation ${plan.generation}</span>
                <button class="danger" disabled=${!plan.hasChanges} onClick=${() => apply(plan)} data-apply>Apply</button>
              </div>
            </div>
          `
        : null}
    </div>
  `;
}
