/**
 * Entry of the bundled storage-server (scripts/bundle.mjs builds it into
 * dist/runtime/bundle/storage-server.cjs, beside the server's own CommonJS bundle and its code
 * cache): runs the bundle through the cache (code-cache.ts). Outside the bundle folder it has
 * nothing to run; runtime/storage/main.ts is the entry of the unbundled build.
 */
import { fileURLToPath } from 'node:url';
import { runBundle } from '../common/code-cache.js';
import { STORAGE_BUNDLE_BODY, STORAGE_BUNDLE_CACHE } from './bundle-files.js';

runBundle(fileURLToPath(new URL(STORAGE_BUNDLE_BODY, import.meta.url)), fileURLToPath(new URL(STORAGE_BUNDLE_CACHE, import.meta.url)));
