/**
 * The part of the Pulumi engine that drives one custom resource, reduced to the calls and the
 * order the real engine makes (pkg/resource/deploy: step generator, steps, provider plugin):
 * - preview: Check(old inputs, program inputs), then Diff(old outputs, checked inputs) if the
 *   resource exists.
 * - up: the same, then Create, or Update, or (replacement with deleteBeforeReplace) Delete then
 *   Create; a resource with init errors is always updated.
 * - refresh: Read(id, old outputs, old inputs), then the refresh diff (Diff with the refreshed
 *   outputs as olds and the old inputs as news).
 * - destroy: Delete(id, old outputs, old inputs).
 * The host answers Configure with acceptSecrets=false, so like the engine this strips secrets
 * before every call; what the provider returns is stored as returned (wire secrets stay secret).
 */
import { SECRET_SIG, SPECIAL_SIG_KEY } from '../../../provider/pulumi/wire.js';
import { DIFF, type DynamicHost, type HostError } from './dynamic-host.js';

type Props = Record<string, unknown>;

/** What the engine keeps for the resource. */
export interface ResourceState {
  id: string;
  inputs: Props;
  outputs: Props;
  initErrors: string[];
}

/** What a preview or up decided. */
export type StepOp = 'create' | 'update' | 'replace' | 'same';

/** Replaces every wire secret by its value, as the engine does for a provider without secret support. */
export function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value === 'object' && value !== null) {
    const o = value as Props;
    if (o[SPECIAL_SIG_KEY] === SECRET_SIG) return unwrapSecrets(o['value']);
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

/** Replaces every wire secret by `[secret]`: what of the state is readable without the stack's key. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (typeof value === 'object' && value !== null) {
    const o = value as Props;
    if (o[SPECIAL_SIG_KEY] === SECRET_SIG) return '[secret]';
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, redactSecrets(v)]));
  }
  return value;
}

/** Check failures, thrown as the engine reports them (the preview or up stops). */
export class CheckFailed extends Error {
  constructor(readonly failures: { property: string; reason: string }[]) {
    super(`check failed:\n${failures.map((f) => `  ${f.property}: ${f.reason}`).join('\n')}`);
  }
}

/** One resource of one stack, driven through a real dynamic-provider host. */
export class EngineSim {
  state: ResourceState | undefined;
  /** Every RPC made, in order, e.g. `check`, `diff`, `update`. */
  readonly calls: string[] = [];

  constructor(
    private readonly host: DynamicHost,
    /** The serialized provider, as `pulumi.dynamic.Resource` puts it in `__provider`. */
    private readonly providerText: string,
    readonly urn = 'urn:pulumi:test::grid::pulumi-nodejs:dynamic/sutra-grid:Grid::grid',
  ) {}

  #news(program: Props): Props {
    return unwrapSecrets({ ...program, __provider: this.providerText }) as Props;
  }

  /** Check and, for an existing resource, Diff: what `pulumi preview` shows. */
  async preview(program: Props): Promise<{ op: StepOp; checked: Props; replaces: string[]; deleteBeforeReplace: boolean }> {
    this.calls.push('check');
    const { inputs, failures } = await this.host.check(this.urn, unwrapSecrets(this.state?.inputs ?? {}) as Props, this.#news(program));
    if (failures.length > 0) throw new CheckFailed(failures);
    if (!this.state) return { op: 'create', checked: inputs, replaces: [], deleteBeforeReplace: false };
    this.calls.push('diff');
    const d = await this.host.diff(this.urn, this.state.id, unwrapSecrets(this.state.outputs) as Props, unwrapSecrets(inputs) as Props, unwrapSecrets(this.state.inputs) as Props);
    const changed = d.changes === DIFF.SOME || this.state.initErrors.length > 0;
    const op: StepOp = !changed ? 'same' : d.replaces.length > 0 ? 'replace' : 'update';
    return { op, checked: inputs, replaces: d.replaces, deleteBeforeReplace: d.deleteBeforeReplace };
  }

  /** `pulumi up` for this resource; returns the step it took. */
  async up(program: Props): Promise<StepOp> {
    const { op, checked, deleteBeforeReplace } = await this.preview(program);
    const news = unwrapSecrets(checked) as Props;
    const state = this.state;
    if (op === 'same' && state) {
      state.inputs = checked;
    } else if (op === 'update' && state) {
      this.calls.push('update');
      try {
        const { properties } = await this.host.update(this.urn, state.id, unwrapSecrets(state.outputs) as Props, news, unwrapSecrets(state.inputs) as Props);
        this.state = { id: state.id, inputs: checked, outputs: properties, initErrors: [] };
      } catch (err) {
        this.#recordInitFailure(err, checked);
        throw err;
      }
    } else {
      if (op === 'replace' && state) {
        if (!deleteBeforeReplace) throw new Error('this provider is expected to delete before replacing');
        await this.destroy();
      }
      this.calls.push('create');
      try {
        const { id, properties } = await this.host.create(this.urn, news);
        this.state = { id, inputs: checked, outputs: properties, initErrors: [] };
      } catch (err) {
        this.#recordInitFailure(err, checked);
        throw err;
      }
    }
    return op;
  }

  /** A partial failure leaves the resource in state with its init errors, as the engine does. */
  #recordInitFailure(err: unknown, checked: Props): void {
    const failure = (err as HostError).initFailure;
    if (failure) this.state = { id: failure.id, inputs: checked, outputs: failure.properties, initErrors: failure.reasons };
  }

  /** `pulumi refresh`: returns whether the refreshed resource differs from its desired inputs (drift). */
  async refresh(): Promise<{ gone: boolean; drift: boolean }> {
    const state = this.state;
    if (!state) throw new Error('nothing to refresh');
    this.calls.push('read');
    const read = await this.host.read(this.urn, state.id, unwrapSecrets(state.outputs) as Props, unwrapSecrets(state.inputs) as Props);
    if (read.id === '') {
      this.state = undefined;
      return { gone: true, drift: true };
    }
    const inputs = read.inputs ?? state.inputs;
    this.state = { id: read.id, inputs, outputs: read.properties, initErrors: state.initErrors };
    // The refresh diff: what an `up` of the unchanged program would change, inverted.
    this.calls.push('diff');
    const d = await this.host.diff(this.urn, read.id, unwrapSecrets(read.properties) as Props, unwrapSecrets(state.inputs) as Props, unwrapSecrets(inputs) as Props);
    return { gone: false, drift: d.changes === DIFF.SOME };
  }

  /**
   * Import by id alone: Read with no old state. The engine sends no `__provider` here
   * (pulumi/pulumi#16175), so this passes it, as a fixed engine or `Grid.get` does.
   */
  async import(id: string): Promise<void> {
    this.calls.push('read');
    const read = await this.host.read(this.urn, id, { __provider: this.providerText });
    if (read.id === '') throw new Error(`resource '${id}' does not exist`);
    if (!read.inputs) throw new Error('provider does not support importing resources (no inputs from read)');
    this.state = { id: read.id, inputs: read.inputs, outputs: read.properties, initErrors: [] };
  }

  /** `pulumi destroy` for this resource. */
  async destroy(): Promise<void> {
    const state = this.state;
    if (!state) return;
    this.calls.push('delete');
    await this.host.delete(this.urn, state.id, unwrapSecrets(state.outputs) as Props, unwrapSecrets(state.inputs) as Props);
    this.state = undefined;
  }
}
