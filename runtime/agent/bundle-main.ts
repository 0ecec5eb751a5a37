/**
 * Entry of the bundled agent (scripts/bundle.mjs builds it into dist/runtime/bundle/agent.cjs,
 * beside the agent's own CommonJS bundle and its code cache): compiles the bundle through the
 * cache (runtime/common/code-cache.ts), as the storage-server's entry does, then settles V8 for a
 * long-lived, mostly idle daemon (agent-v8.ts) and runs it. One file compiled from its cache
 * instead of the CLI's ES module chunks linked and compiled was ~6 MB of an idle agent's RSS
 * (issue 17). Outside the bundle folder it has nothing to run; runtime/agent/main.ts is the entry
 * of the unbundled build.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { compileBundle } from '../common/code-cache.js';
import { tuneAgentV8 } from './agent-v8.js';
import { AGENT_BUNDLE_BODY, AGENT_BUNDLE_CACHE } from './bundle-files.js';

/** The cache file's contents, or none: a missing or unreadable cache only costs the compile. */
function readCache(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

// Compiled before the flags change: V8 accepts a code cache only under the flags it was written with.
const body = compileBundle(fileURLToPath(new URL(AGENT_BUNDLE_BODY, import.meta.url)), readCache(fileURLToPath(new URL(AGENT_BUNDLE_CACHE, import.meta.url))));
tuneAgentV8(createRequire(import.meta.url));
body.run();
