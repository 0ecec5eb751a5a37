/**
 * File names of the bundled storage-server in dist/runtime/bundle/ (scripts/bundle.mjs), shared by
 * the build, the bundle's entry and runtime/storage/entry.ts.
 */

/** The script agents spawn: a small loader that runs the body through its code cache. */
export const STORAGE_BUNDLE_ENTRY = 'storage-server.cjs';
/** The storage-server itself, one CommonJS file. */
export const STORAGE_BUNDLE_BODY = 'storage-server-body.cjs';
/** V8's code cache of the body after a warm start, written at build time. */
export const STORAGE_BUNDLE_CACHE = 'storage-server-body.cache';
