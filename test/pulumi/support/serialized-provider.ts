/**
 * The `__provider` text exactly as a Pulumi program produces it: a `Grid` is constructed under
 * `pulumi.runtime.setMocks`, so `pulumi.dynamic.Resource` serializes the provider itself, and the
 * registered inputs are captured.
 */
import * as pulumi from '@pulumi/pulumi';
import type { GridArgs } from '../../../provider/pulumi/index.js';

/** What the program registered for one `Grid`. */
export interface RegisteredGrid {
  /** The serialized provider (`__provider`). */
  readonly providerText: string;
  /** Every input as registered, in wire form (a secret is a `{sig, value}` object). */
  readonly inputs: Record<string, unknown>;
}

/** Runs a one-resource program and returns what it registered. Call once per process (mocks are global). */
export async function registerGrid(args: GridArgs): Promise<RegisteredGrid> {
  let inputs: Record<string, unknown> | undefined;
  await pulumi.runtime.setMocks(
    {
      newResource: (a) => {
        inputs = a.inputs as Record<string, unknown>;
        return { id: String(a.inputs['masterAddress'] ?? 'unknown'), state: a.inputs };
      },
      call: () => ({}),
    },
    'grid-test',
    'test',
    false,
  );
  const { Grid } = await import('../../../provider/pulumi/index.js');
  const grid = new Grid('grid', args);
  await new Promise((resolve) => grid.urn.apply(resolve));
  if (!inputs || typeof inputs['__provider'] !== 'string') throw new Error('the Grid registered no __provider');
  return { providerText: inputs['__provider'], inputs };
}
