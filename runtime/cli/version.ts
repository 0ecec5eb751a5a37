import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's name in package.json: the file found walking up is this package's own. */
const PACKAGE_NAME = 'sutra-grid';

/**
 * The version of this build of sutra-grid, from its package.json, read when asked (not at every
 * call's start). This module runs from runtime/cli/ (sources), dist/runtime/cli/ (tsc output) or
 * dist/runtime/bundle/ (bundles), so the file is found by walking up, not at a fixed depth.
 */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 5; up++, dir = dirname(dir)) {
    let text: string;
    try {
      text = readFileSync(join(dir, 'package.json'), 'utf8');
    } catch {
      continue;
    }
    const pkg = JSON.parse(text) as { name?: unknown; version?: unknown };
    if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') return pkg.version;
  }
  return 'unknown';
}
