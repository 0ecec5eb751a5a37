/**
 * File names of the CLI's client and spec bundles in dist/runtime/bundle/ (scripts/bundle.mjs),
 * shared by the build, their cache writer (scripts/cli-code-cache.mjs) and the bundles' entry.
 * bin/sutra-grid.js spells the entry's out itself (it loads before any of our modules).
 */

/**
 * What bin/sutra-grid.js asks whether a call is a client or spec verb's (verbs.ts), and which then
 * runs the body through its code cache (client-bundle-main.ts).
 */
export const CLI_CLIENT_ENTRY = 'cli-client.cjs';
/** The client verbs' CLI itself (client-main.ts), one CommonJS file. */
export const CLI_CLIENT_BODY = 'cli-client-body.cjs';
/** V8's code cache of the body after warm client calls, written at build time. */
export const CLI_CLIENT_CACHE = 'cli-client-body.cache';
/** The spec verbs' CLI (spec-main.ts), one CommonJS file. */
export const CLI_SPEC_BODY = 'cli-spec-body.cjs';
/** V8's code cache of the spec body after warm spec calls, written at build time. */
export const CLI_SPEC_CACHE = 'cli-spec-body.cache';
