/**
 * A throwaway Pulumi project directory with `sutra-grid` "installed" in its node_modules, the
 * way a user's project has it: the serialized provider resolves the implementation from there by
 * package name. The installed implementation is this checkout's source, bundled with esbuild
 * (dependencies stay external and resolve to this checkout's node_modules).
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Where the serialized provider looks for the implementation, relative to the package root. */
export const IMPL_PATH_IN_PACKAGE = 'dist/provider/pulumi/grid-provider-impl.js';

/** A temporary project directory; `remove()` deletes it. */
export interface ProjectDir {
  readonly dir: string;
  /** Absolute path of the installed implementation module. */
  readonly implFile: string;
  /** Replaces the installed implementation with `source` (an ES module), as an upgrade would. */
  replaceImpl(source: string): Promise<void>;
  /** Reinstalls the implementation built from this checkout. */
  reinstall(): Promise<void>;
  remove(): Promise<void>;
}

async function bundleImpl(outfile: string): Promise<void> {
  await build({
    entryPoints: [join(repoRoot, 'provider/pulumi/grid-provider-impl.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'silent',
  });
}

/** Creates the project directory and installs the implementation. */
export async function createProjectDir(): Promise<ProjectDir> {
  const dir = await mkdtemp(join(tmpdir(), 'grid-pulumi-project-'));
  const pkg = join(dir, 'node_modules', 'sutra-grid');
  const implFile = join(pkg, IMPL_PATH_IN_PACKAGE);
  await mkdir(dirname(implFile), { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'grid-test-project', private: true }));
  await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'sutra-grid', version: '0.0.0-test', type: 'module' }));
  // The bundle's own dependencies (@grpc/grpc-js, yaml, ajv...) resolve through this link.
  await symlink(join(repoRoot, 'node_modules'), join(pkg, 'node_modules'), 'dir');
  await bundleImpl(implFile);
  return {
    dir,
    implFile,
    replaceImpl: (source) => writeFile(implFile, source),
    reinstall: () => bundleImpl(implFile),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
