/**
 * File names of the CLI's client bundle in dist/runtime/bundle/ (scripts/bundle.mjs), shared by
 * the build, its cache writer (scripts/cli-code-cache.mjs) and the bundle's entry.
 * bin/sutra-grid.js spells them out itself (it loads before any of our modules).
 */

/** verbs.ts alone, as CommonJS: what bin/sutra-grid.js asks whether a call is a client verb's. */
export const CLI_CLIENT_VERBS = 'cli-verbs.cjs';

/** The script bin/sutra-grid.js runs for a client verb: a small loader that runs the body through its code cache. */
export const CLI_CLIENT_ENTRY = 'cli-client.cjs';
/** The client verbs' CLI itself (client-main.ts), one CommonJS file. */
export const CLI_CLIENT_BODY = 'cli-client-body.cjs';
/** V8's code cache of the body after warm client calls, written at build time. */
export const CLI_CLIENT_CACHE = 'cli-client-body.cache';
