/**
 * What the bundle tests (storage-server, agent, CLI client) ask of a code cache the build wrote:
 * that a fresh `node` accepts it. Only a fresh process can say: V8 accepts a cache only in a process
 * that has not compiled the same source already. The body is compiled, never run (running it would
 * start a server or make a CLI call).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './processes.js';

/** The built bundles' folder. */
export const BUNDLE_DIR = join(REPO_ROOT, 'dist', 'runtime', 'bundle');
/** The built code-cache loader (runtime/common/code-cache.ts). */
export const CODE_CACHE_MODULE = join(REPO_ROOT, 'dist', 'runtime', 'common', 'code-cache.js');

/**
 * Compiles `body` with `cache` (file names in the built bundle folder) in a fresh process.
 * @returns whether V8 accepted the cache, and what the process wrote on stderr (nothing, when well).
 */
export function builtCacheAccepted(body: string, cache: string): { accepted: boolean; stderr: string } {
  const script = `
    import { readFileSync } from 'node:fs';
    import { compileBundle } from ${JSON.stringify(CODE_CACHE_MODULE)};
    const b = compileBundle(${JSON.stringify(join(BUNDLE_DIR, body))}, readFileSync(${JSON.stringify(join(BUNDLE_DIR, cache))}));
    process.stdout.write(String(b.cacheAccepted));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return { accepted: r.status === 0 && r.stdout === 'true', stderr: r.stderr };
}
