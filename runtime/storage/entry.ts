import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { STORAGE_BUNDLE_BODY, STORAGE_BUNDLE_ENTRY } from './bundle-files.js';

/**
 * The storage-server script agents spawn with `process.execPath`: the bundle's entry
 * `dist/runtime/bundle/storage-server.cjs` that `npm run build` makes (scripts/bundle.mjs), which
 * runs the single-file server through its code cache, else the compiled
 * `dist/runtime/storage/main.js`. One file to load instead of ~160, not compiled again, is most of
 * a node's start-up. Both paths are relative to a sibling folder of dist/runtime, so they resolve
 * the same from this compiled module and from a bundle chunk (which lives in dist/runtime/bundle/).
 */
export function storageServerEntry(): string {
  const bundle = new URL('../bundle/', import.meta.url);
  const bundled = fileURLToPath(new URL(STORAGE_BUNDLE_ENTRY, bundle));
  return existsSync(bundled) && existsSync(new URL(STORAGE_BUNDLE_BODY, bundle)) ? bundled : fileURLToPath(new URL('../storage/main.js', import.meta.url));
}
