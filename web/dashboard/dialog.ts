/**
 * The confirm dialog every action goes through: what will happen, optional inputs (a drain's
 * deadline), Confirm and Cancel. A refusal keeps it open with the API's problem message.
 */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { problemText } from './api.js';

/** An input the dialog asks for before running. */
export interface ActionInput {
  readonly name: string;
  readonly label: string;
  readonly value: string;
  readonly placeholder?: string;
}

/** One operator action waiting for confirmation. */
export interface PendingAction {
  readonly title: string;
  readonly text: string;
  /** Confirm button label, e.g. `Stop kv-0`. */
  readonly confirm: string;
  readonly danger?: boolean;
  readonly inputs?: readonly ActionInput[];
  /** Runs the action; resolves with a line saying what was done. */
  run(values: Readonly<Record<string, string>>): Promise<string>;
}

export function ConfirmDialog(props: { action: PendingAction; close: (done?: string) => void }) {
  const a = props.action;
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries((a.inputs ?? []).map((i) => [i.name, i.value])));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const go = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    setBusy(true);
    setError('');
    try {
      props.close(await a.run(values));
    } catch (err) {
      setError(problemText(err));
      setBusy(false);
    }
  };
  return html`
    <div class="backdrop" onClick=${(e: Event) => e.target === e.currentTarget && !busy && props.close()}>
      <form class="dialog" role="dialog" aria-modal="true" aria-labelledby="dialog-title" onSubmit=${go}>
        <h2 id="dialog-title">${a.title}</h2>
        <p>${a.text}</p>
        ${(a.inputs ?? []).map(
          (i) => html`<label class="field">${i.label}
            <input name=${i.name} value=${values[i.name] ?? ''} placeholder=${i.placeholder ?? ''}
              onInput=${(e: Event) => setValues({ ...values, [i.name]: (e.target as HTMLInputElement).value })} /></label>`,
        )}
        ${error !== '' ? html`<p class="problem" role="alert">${error}</p>` : null}
        <div class="buttons">
          <button type="button" disabled=${busy} onClick=${() => props.close()}>Cancel</button>
          <button type="submit" class=${a.danger === true ? 'danger' : 'primary'} disabled=${busy} data-confirm>${busy ? 'Working…' : a.confirm}</button>
        </div>
      </form>
    </div>
  `;
}
