import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The storage-server script agents spawn with `process.execPath`: the single-file bundle
 * `dist/runtime/bundle/storage-server.js` that `npm run build` makes (scripts/bundle.mjs), else the
 * compiled `dist/runtime/storage/main.js`. One file to load instead of ~160 is most of a node's
 * start-up. Both paths are relative to a sibling folder of dist/runtime, so they resolve the same
 * from this compiled module and from a bundle chunk (which lives in dist/runtime/bundle/).
 */
export function storageServerEntry(): string {
  const bundled = fileURLToPath(new URL('../bundle/storage-server.js', import.meta.url));
  return existsSync(bundled) ? bundled : fileURLToPath(new URL('../storage/main.js', import.meta.url));
}
