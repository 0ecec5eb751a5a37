/**
 * Entry of the CLI's client bundle (scripts/bundle.mjs builds it into
 * dist/runtime/bundle/cli-client.cjs, beside the body and its code cache): runs the body
 * (client-main.ts) through the cache, as the storage-server's entry does (runtime/common/code-cache.ts).
 * A missing or rejected cache only costs the compile it would have saved.
 */
import { fileURLToPath } from 'node:url';
import { runBundle } from '../common/code-cache.js';
import { CLI_CLIENT_BODY, CLI_CLIENT_CACHE } from './client-bundle-files.js';

runBundle(fileURLToPath(new URL(CLI_CLIENT_BODY, import.meta.url)), fileURLToPath(new URL(CLI_CLIENT_CACHE, import.meta.url)));
