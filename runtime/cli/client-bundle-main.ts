/**
 * Entry of the CLI's client bundle (scripts/bundle.mjs builds it into
 * dist/runtime/bundle/cli-client.cjs, beside the body and its code cache). bin/sutra-grid.js loads
 * it for every call but `agent` and `storage-server`: it tells whether the call names a client verb
 * (verbs.ts, bundled in, so that choosing costs one small file, not two) and, when it does, runs the
 * body (client-main.ts) through the cache, as the storage-server's entry does
 * (runtime/common/code-cache.ts). A missing or rejected cache only costs the compile it would have
 * saved.
 */
import { fileURLToPath } from 'node:url';
import { runBundle } from '../common/code-cache.js';
import { CLI_CLIENT_BODY, CLI_CLIENT_CACHE } from './client-bundle-files.js';
import { isClientVerb, verbOf } from './verbs.js';

/**
 * Runs the call `argv` (node, script, ...args) from the client bundle when it names a client verb.
 * @returns false, having run nothing, when it does not: the call is the full CLI's.
 */
export function runClientCall(argv: readonly string[]): boolean {
  if (!isClientVerb(verbOf(argv))) return false;
  runBundle(fileURLToPath(new URL(CLI_CLIENT_BODY, import.meta.url)), fileURLToPath(new URL(CLI_CLIENT_CACHE, import.meta.url)));
  return true;
}
