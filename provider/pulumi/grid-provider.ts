/**
 * The serializable face of the `Grid` provider. `pulumi.dynamic.Resource` serializes this object
 * (with `pulumi.runtime.serializeFunction`) into the `__provider` property of the state, and the
 * dynamic-provider host revives it from there for every operation, including `destroy` long after
 * the program changed. So it holds nothing that can go stale or leak: no client, no secret, no
 * logic. Each method loads the implementation from the installed package at call time
 * (pulumi/pulumi#6490, #6238: code captured in state is otherwise frozen at the version that
 * first wrote it). Everything a method needs is inside its body or a string constant.
 */
import type * as pulumi from '@pulumi/pulumi';

/** Package specifier of the implementation, resolved from the Pulumi project directory. */
const IMPL_SPECIFIER = 'sutra-grid/dist/provider/pulumi/grid-provider-impl.js';

/**
 * Where the implementation was when the program ran: the fallback for a project that cannot
 * resolve the package by name (e.g. a program run from a checkout). Under a TypeScript loader this
 * module is `.ts`; the host runs plain Node, so point at the compiled file under `dist/`.
 */
const IMPL_HINT = ((): string => {
  const here = new URL(import.meta.url);
  if (here.pathname.endsWith('.ts')) return new URL('../../dist/provider/pulumi/grid-provider-impl.js', here).href;
  return new URL('./grid-provider-impl.js', here).href;
})();

/** The implementation module's shape: the ResourceProvider methods as named exports. */
type GridProviderImpl = Required<Omit<pulumi.dynamic.ResourceProvider, 'configure'>>;

/**
 * Loads the implementation: `SUTRA_GRID_PROVIDER_IMPL` (a path or file URL) when set, else the
 * package by name from the working directory (the engine runs the host in the project directory),
 * else {@link IMPL_HINT}. Node caches the module, so this costs one load per host process.
 */
async function loadGridProviderImpl(): Promise<GridProviderImpl> {
  // A native `import()`, whatever compiled this module: TypeScript's CommonJS output and test
  // transformers rewrite `import()` into helpers (require, vite's loader) that either cannot load
  // an ES module or cannot be serialized into the state.
  const importNative = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;
  const { createRequire } = (await importNative('node:module')) as typeof import('node:module');
  const { existsSync } = (await importNative('node:fs')) as typeof import('node:fs');
  const { join } = (await importNative('node:path')) as typeof import('node:path');
  const { pathToFileURL, fileURLToPath } = (await importNative('node:url')) as typeof import('node:url');
  const candidates: string[] = [];
  const override = process.env['SUTRA_GRID_PROVIDER_IMPL'];
  if (override) candidates.push(override.startsWith('file:') ? fileURLToPath(override) : override);
  try {
    candidates.push(createRequire(join(process.cwd(), 'package.json')).resolve(IMPL_SPECIFIER));
  } catch {
    // Not installed in this project: fall through to the hint.
  }
  candidates.push(fileURLToPath(IMPL_HINT));
  const found = candidates.find((c) => existsSync(c));
  if (found === undefined) {
    throw new Error(
      `cannot load the sutra-grid Grid provider: install sutra-grid in the Pulumi project (npm install sutra-grid) or set SUTRA_GRID_PROVIDER_IMPL; tried ${candidates.join(', ')}`,
    );
  }
  return (await importNative(pathToFileURL(found).href)) as GridProviderImpl;
}

/**
 * The `Grid` dynamic provider. Pass it to `pulumi.dynamic.Resource` (the `Grid` class does);
 * every method defers to the implementation loaded at call time.
 */
export const gridProvider: pulumi.dynamic.ResourceProvider = {
  async check(olds, news) {
    return (await loadGridProviderImpl()).check(olds, news);
  },
  async diff(id, olds, news) {
    return (await loadGridProviderImpl()).diff(id, olds, news);
  },
  async create(inputs) {
    return (await loadGridProviderImpl()).create(inputs);
  },
  async read(id, props) {
    return (await loadGridProviderImpl()).read(id, props);
  },
  async update(id, olds, news) {
    return (await loadGridProviderImpl()).update(id, olds, news);
  },
  async delete(id, props) {
    return (await loadGridProviderImpl()).delete(id, props);
  },
};
