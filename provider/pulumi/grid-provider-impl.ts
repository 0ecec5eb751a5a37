/**
 * The `Grid` provider's real logic. The serialized provider (grid-provider.ts) loads this module
 * from the installed package on every call, so state never holds a copy of it: upgrading the
 * package changes what the next `pulumi up` runs. Every function takes and returns plain JSON
 * (what the dynamic-provider host passes over gRPC) and opens its own short master session.
 */
import type * as pulumi from '@pulumi/pulumi';
import { readGrid, resolveToken, waitConverged, waitDrained, type MasterClient } from '../../client/index.js';
import { parseDuration } from '../../schema/index.js';
import { checkInputs } from './grid-check.js';
import { liveGrid, planLines, type LiveGrid } from './grid-outputs.js';
import {
  addressFromId,
  declaredClusters,
  DEFAULT_CONVERGE_TIMEOUT,
  CREDENTIAL_KEYS,
  DESIRED_KEYS,
  gridId,
  jsonEqual,
  plainSecret,
  plainToken,
  sameMasters,
  specName,
  type GridProviderOutputs,
  type SpecObject,
} from './grid-inputs.js';
import { GridInitError, PulumiGridError } from './errors.js';
import { withMaster, type MasterTarget } from './master-session.js';
import { containsUnknown, unwrapSecret, wireSecret } from './wire.js';

type Props = Record<string, unknown>;

/**
 * How long `check` and `diff` wait for the master: a preview must not hang on a host that drops
 * packets (a stopped master refuses at once). 3 s used to drop the plan silently from previews run
 * on a busy 2-core machine beside two Node processes starting; a slow master is not a down one.
 */
const PREVIEW_CALL_TIMEOUT_MS = 10_000;

/** Drops `undefined` members: the host's Struct conversion throws on them. */
function compact<T extends Props>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function targetOf(props: Props, id?: string, callTimeoutMs?: number): MasterTarget {
  const address = typeof props['masterAddress'] === 'string' ? props['masterAddress'] : id !== undefined ? addressFromId(id) : '';
  if (address === '') throw new PulumiGridError('GRID_INPUT_INVALID', 'masterAddress', 'is required (no masterAddress in the inputs and no id)');
  // The resource's own token, else SUTRA_GRID_TOKEN (how `pulumi import` and `Grid.get` authenticate).
  const token = resolveToken({ value: plainToken(props['token']) });
  return compact({ address, token, callTimeoutMs, tls: tlsOf(props) });
}

/** The mutual-TLS credential in `props`, when a CA is given (plain PEM, whatever form it was stored in). */
function tlsOf(props: Props): MasterTarget['tls'] {
  const caPem = plainSecret(props['tlsCa']);
  if (caPem === undefined) return undefined;
  return compact({ caPem, certPem: plainSecret(props['tlsCert']), keyPem: plainSecret(props['tlsKey']) });
}

/** Every credential of `props` in wire-secret form, the rest left out: what state may hold of them. */
function secretCredentials(props: Props): Props {
  return Object.fromEntries(
    CREDENTIAL_KEYS.map((k) => [k, plainSecret(props[k])] as const)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, wireSecret(v)]),
  );
}

function specOf(props: Props): SpecObject {
  const spec = props['spec'];
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new PulumiGridError('GRID_INPUT_INVALID', 'spec', 'is missing: the inputs were not checked (expected the spec object)');
  }
  return spec as SpecObject;
}

function timeoutOf(props: Props): number {
  const t = props['convergeTimeout'];
  return parseDuration(typeof t === 'string' && t !== '' ? t : DEFAULT_CONVERGE_TIMEOUT, 'convergeTimeout');
}

/** The outputs for `inputs` and the live grid: the inputs echoed (token as a secret), plus live state. */
function outputsOf(inputs: Props, spec: SpecObject, generation: number, live: LiveGrid): GridProviderOutputs {
  return compact({
    spec,
    specFile: typeof inputs['specFile'] === 'string' ? inputs['specFile'] : undefined,
    masterAddress: inputs['masterAddress'] as string,
    // Token and TLS credential in wire-secret form: the engine keeps them encrypted in state and
    // never shows them; later reads and deletes (a destroy long after the program changed) need them.
    ...secretCredentials(inputs),
    convergeTimeout: typeof inputs['convergeTimeout'] === 'string' ? inputs['convergeTimeout'] : undefined,
    gridName: specName(spec),
    generation,
    placements: live.placements,
    clusterHealth: live.clusterHealth,
    health: live.health,
  }) as unknown as GridProviderOutputs;
}

/**
 * The master's dry-run plan for `spec`, as display lines (empty: nothing to do). A master holding
 * another grid is one line saying so: applying would be refused, not planned.
 */
async function dryRunLines(master: MasterClient, spec: SpecObject): Promise<string[]> {
  const current = await master.getSpec();
  if (current.specJson !== '') {
    const holding = specName(JSON.parse(current.specJson));
    if (holding !== specName(spec)) {
      return [`! master ${master.address} holds grid "${holding}" (generation ${current.generation}); it will not be replaced by "${specName(spec)}"`];
    }
  }
  return planLines((await master.applySpec(JSON.stringify(spec), undefined, true)).plan);
}

/**
 * Validates the inputs (every problem a `{property, reason}` failure) and, when the master is
 * reachable, adds its dry-run plan as `plannedChanges`. The dynamic-provider host forwards no
 * detailed diff, so an input the engine displays is the only way `pulumi preview --diff` can show
 * which nodes will be created, destroyed or replaced, and where.
 */
export async function check(_olds: Props, news: Props): Promise<pulumi.dynamic.CheckResult> {
  const { inputs: checked, failures } = await checkInputs(news);
  const inputs: Props = checked;
  if (failures.length > 0 || containsUnknown(inputs)) return { inputs, failures };
  try {
    const lines = await withMaster(targetOf(inputs, undefined, PREVIEW_CALL_TIMEOUT_MS), (m) => dryRunLines(m, specOf(inputs)));
    if (lines.length > 0) inputs['plannedChanges'] = lines;
  } catch (err) {
    // A refused token or a spec the master rejects (say, a newer master's rule) will fail the
    // update too: say so now. Anything else (master down) only means the preview shows the input
    // diff without the plan.
    if (err instanceof PulumiGridError && (err.code === 'GRID_UNAUTHENTICATED' || err.code === 'GRID_PERMISSION_DENIED')) {
      return { inputs, failures: [{ property: err.field, reason: err.message }] };
    }
    if (err instanceof PulumiGridError && err.code === 'GRID_SPEC_INVALID') {
      return { inputs, failures: [{ property: 'spec', reason: err.message }] };
    }
  }
  return { inputs, failures };
}

/**
 * Compares the desired grid in `olds` (the stored outputs) and `news`; a different master is a
 * different grid and so a replacement, everything else an in-place update. When the spec is the
 * same but the master's dry-run still plans actions (nodes lost or drifted), that is a change too,
 * so `pulumi up` converges the grid again.
 */
export async function diff(_id: string, olds: Props, news: Props): Promise<pulumi.dynamic.DiffResult> {
  const changed = DESIRED_KEYS.filter((k) => !jsonEqual(unwrapSecret(olds[k]), unwrapSecret(news[k])));
  // Adding or dropping one master of a list is the same grid; a list sharing no master is another.
  const moved =
    changed.includes('masterAddress') &&
    !containsUnknown(news['masterAddress']) &&
    !sameMasters(String(olds['masterAddress'] ?? ''), String(news['masterAddress'] ?? ''));
  const replaces = moved ? ['masterAddress'] : [];
  let planned = false;
  if (changed.length === 0 && !containsUnknown(news)) {
    try {
      planned = await withMaster(targetOf(news, undefined, PREVIEW_CALL_TIMEOUT_MS), async (m) => {
        // A spec changed on the master behind the stack's back is a change even before the
        // reconciler acted on it; otherwise the master's plan says whether live state drifted.
        const current = await m.getSpec();
        if (typeof olds['generation'] === 'number' && current.generation !== olds['generation']) return true;
        return (await dryRunLines(m, specOf(news))).length > 0;
      });
    } catch {
      // Unreachable master: the input comparison alone decides.
    }
  }
  return {
    changes: changed.length > 0 || planned,
    replaces,
    // Two Grid resources must never own one master at once (the old one's delete would remove the
    // new one's spec if both addresses reach the same master), so the old grid goes first.
    deleteBeforeReplace: replaces.length > 0,
    stables: ['masterAddress'].filter((k) => !replaces.includes(k)),
  };
}

/**
 * Applies `spec` with `expectedGeneration` and waits for convergence. Once the spec is stored,
 * failures are {@link GridInitError}s carrying the id and outputs, so the engine records the
 * resource and the next `up` finishes it with an update rather than a second create.
 */
async function applyAndConverge(master: MasterClient, inputs: Props, expectedGeneration: number | undefined) {
  const spec = specOf(inputs);
  const id = gridId(master.address);
  const { plan, generation } = await master.applySpec(JSON.stringify(spec), expectedGeneration, false);
  if (plan.unplaced.length > 0) {
    const live = liveGrid(spec, await readGrid(master));
    const reasons = plan.unplaced.map((u) => u.reason);
    throw new GridInitError('GRID_UNPLACED', id, outputsOf(inputs, spec, generation, live) as unknown as Props, reasons,
      `grid "${specName(spec)}" was applied (generation ${generation}) but the master cannot place every node:\n  ${reasons.join('\n  ')}`);
  }
  // The spec was sent once; the wait only reads the grid.
  const result = await waitConverged(master, generation, { timeoutMs: timeoutOf(inputs) });
  const outs = outputsOf(inputs, spec, generation, liveGrid(spec, result.view ?? (await readGrid(master))));
  if (!result.done) {
    const gaps = [...result.remaining];
    throw new GridInitError('GRID_CONVERGE_TIMEOUT', id, outs as unknown as Props, gaps,
      `grid "${specName(spec)}" (generation ${generation}) did not converge within ${inputs['convergeTimeout'] ?? DEFAULT_CONVERGE_TIMEOUT}:\n  ${gaps.join('\n  ')}`);
  }
  return { id, outs };
}

/**
 * Stores the spec on the master and waits until every declared node runs. A master that already
 * holds a grid of the same name is adopted (ApplySpec is declarative: an identical spec changes
 * nothing, so a create retried after a lost response converges); one holding another grid is
 * refused rather than overwritten.
 */
export async function create(inputs: Props): Promise<pulumi.dynamic.CreateResult> {
  const spec = specOf(inputs);
  return withMaster(targetOf(inputs), async (master) => {
    const current = await master.getSpec();
    if (current.specJson !== '') {
      const holding = specName(JSON.parse(current.specJson));
      if (holding !== specName(spec)) {
        throw new PulumiGridError('GRID_CONFLICT', 'spec.name',
          `master ${master.address} already holds grid "${holding}" (generation ${current.generation}); refusing to replace it with "${specName(spec)}". ` +
          'Delete that grid first (or import it into this stack), or point masterAddress at another master');
      }
    }
    return applyAndConverge(master, inputs, current.generation);
  });
}

/**
 * Applies the new spec in place. The expected generation is the one this stack last saw, so a
 * spec changed behind the stack's back is reported (GRID_STALE_GENERATION) instead of overwritten.
 */
export async function update(_id: string, olds: Props, news: Props): Promise<pulumi.dynamic.UpdateResult> {
  return withMaster(targetOf(news), async (master) => {
    const expected = typeof olds['generation'] === 'number' ? olds['generation'] : (await master.getSpec()).generation;
    const { outs } = await applyAndConverge(master, news, expected);
    return { outs };
  });
}

/**
 * Reads the grid from the master. Needs only the id (the master address) - old state is optional,
 * and the token falls back to `SUTRA_GRID_TOKEN` - so `refresh` reports drift and import works
 * from the address alone. Returns inputs too: the live spec becomes the stored desired spec, so
 * the next `up` shows the way back to the program's spec as a diff.
 */
export async function read(id: string, props?: Props): Promise<pulumi.dynamic.ReadResult> {
  const old = props ?? {};
  const target = targetOf(old, id);
  return withMaster(target, async (master) => {
    const current = await master.getSpec();
    // No spec, or another grid's: the grid this resource manages is gone.
    if (current.specJson === '') return { id: '' };
    const spec = JSON.parse(current.specJson) as SpecObject;
    const oldName = specName(old['spec']);
    if (oldName !== '' && oldName !== specName(spec)) return { id: '' };
    const live = liveGrid(spec, await readGrid(master));
    const echoed: Props = compact({
      masterAddress: target.address,
      token: target.token,
      tlsCa: target.tls?.caPem,
      tlsCert: target.tls?.certPem,
      tlsKey: target.tls?.keyPem,
      specFile: old['specFile'],
      convergeTimeout: old['convergeTimeout'],
    });
    const outs = outputsOf(echoed, spec, current.generation, live);
    const inputs = compact({ ...echoed, spec, ...secretCredentials(echoed) });
    return { id: gridId(target.address), props: outs, inputs };
  });
}

/**
 * Removes the grid's spec from the master and waits until its nodes are stopped. A master that
 * no longer holds this grid (deleted already, or holding another grid) is left alone: delete is
 * idempotent and never removes someone else's grid.
 */
export async function deleteGrid(id: string, props: Props): Promise<void> {
  const target = targetOf(props, id);
  const spec = props['spec'];
  const clusters = new Set(declaredClusters(spec).map((c) => c.name));
  try {
    await withMaster(target, async (master) => {
      const current = await master.getSpec();
      if (current.specJson !== '') {
        const live = JSON.parse(current.specJson) as SpecObject;
        if (specName(spec) !== '' && specName(live) !== specName(spec)) return;
        for (const c of declaredClusters(live)) clusters.add(c.name);
        await master.deleteSpec(current.generation, specName(live));
      }
      const { remaining: up } = await waitDrained(master, clusters, { timeoutMs: timeoutOf(props) });
      if (up.length > 0) {
        throw new PulumiGridError('GRID_CONVERGE_TIMEOUT', '',
          `grid "${specName(spec)}" was deleted from master ${master.address} but these nodes did not stop within ${props['convergeTimeout'] ?? DEFAULT_CONVERGE_TIMEOUT}:\n  ${up.join('\n  ')}`);
      }
    });
  } catch (err) {
    if (err instanceof PulumiGridError && err.code === 'GRID_MASTER_UNREACHABLE') {
      throw err.withHint('If that master is gone for good, drop the resource from the stack with `pulumi state delete <urn>`');
    }
    throw err;
  }
}

export { deleteGrid as delete };

/** The provider object itself, for callers that want the ResourceProvider shape. */
export const gridProviderImpl: pulumi.dynamic.ResourceProvider = { check, diff, create, read, update, delete: deleteGrid };
