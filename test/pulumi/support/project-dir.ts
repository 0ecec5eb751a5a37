/**
 * A throwaway Pulumi project directory with `sutra-grid` "installed" in its node_modules, the
 * way a user's project has it: the serialized provider resolves the implementation from there by
 * package name. The installed files are this checkout's sources, transpiled one by one into the
 * same `dist/` layout `npm run build` produces (dependencies resolve to this checkout's
 * node_modules), so the test needs no prior build.
 */
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

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

const RELATIVE_IMPORT = /(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g;

/** Transpiles the implementation and every module it imports (relatively) into `<pkg>/dist/`. */
async function installImpl(pkg: string): Promise<void> {
  const pending = [join(repoRoot, 'provider/pulumi/grid-provider-impl.ts')];
  const seen = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = await readFile(file, 'utf8');
    for (const m of source.matchAll(RELATIVE_IMPORT)) pending.push(resolve(dirname(file), `${m[1]}.ts`));
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: file,
    });
    const out = join(pkg, 'dist', relative(repoRoot, file).replace(/\.ts$/, '.js'));
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, outputText);
  }
}

/** Creates the project directory and installs the implementation. */
export async function createProjectDir(): Promise<ProjectDir> {
  const dir = await mkdtemp(join(tmpdir(), 'grid-pulumi-project-'));
  const pkg = join(dir, 'node_modules', 'sutra-grid');
  const implFile = join(pkg, IMPL_PATH_IN_PACKAGE);
  await mkdir(dirname(implFile), { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'grid-test-project', private: true }));
  await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'sutra-grid', version: '0.0.0-test', type: 'module' }));
  // The package's own dependencies (@grpc/grpc-js, yaml, ajv...) resolve through this link.
  await symlink(join(repoRoot, 'node_modules'), join(pkg, 'node_modules'), 'dir');
  await installImpl(pkg);
  return {
    dir,
    implFile,
    replaceImpl: (source) => writeFile(implFile, source),
    reinstall: () => installImpl(pkg),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
