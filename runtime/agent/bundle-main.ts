/**
 * Entry of the bundled agent (scripts/bundle.mjs builds it into dist/runtime/bundle/agent.cjs,
 * beside the agent's own CommonJS bundle and its code cache): runs the bundle through the cache
 * (runtime/common/code-cache.ts), as the storage-server's entry does. One file compiled from its
 * cache instead of the CLI's ES module chunks linked and compiled was ~6 MB of an idle agent's
 * RSS (issue 17). Outside the bundle folder it has nothing to run; runtime/agent/main.ts is the
 * entry of the unbundled build.
 */
import { fileURLToPath } from 'node:url';
import { runBundle } from '../common/code-cache.js';
import { AGENT_BUNDLE_BODY, AGENT_BUNDLE_CACHE } from './bundle-files.js';

runBundle(fileURLToPath(new URL(AGENT_BUNDLE_BODY, import.meta.url)), fileURLToPath(new URL(AGENT_BUNDLE_CACHE, import.meta.url)));
