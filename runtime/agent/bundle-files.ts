/**
 * File names of the bundled agent in dist/runtime/bundle/ (scripts/bundle.mjs), shared by the
 * build, the bundle's entry and bin/sutra-grid.js (which spells them out: it loads no module first).
 */

/** The script bin/sutra-grid.js runs for `agent`: a small loader that runs the body through its code cache. */
export const AGENT_BUNDLE_ENTRY = 'agent.cjs';
/** The agent itself (runtime/agent/main.ts), one CommonJS file. */
export const AGENT_BUNDLE_BODY = 'agent-body.cjs';
/** V8's code cache of the body after a warm start, written at build time (scripts/agent-code-cache.mjs). */
export const AGENT_BUNDLE_CACHE = 'agent-body.cache';
/**
 * node-forge, bundled on its own: the body loads it on first use (joining, certificate renewal,
 * node certificates: TLS agents only), so a plaintext agent neither runs nor keeps its ~370 KB source.
 */
export const AGENT_BUNDLE_FORGE = 'node-forge.cjs';
