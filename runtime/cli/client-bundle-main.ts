/**
 * Entry of the CLI's client and spec bundles (scripts/bundle.mjs builds it into
 * dist/runtime/bundle/cli-client.cjs, beside the bodies and their code caches). bin/sutra-grid.js
 * loads it for every call but `agent` and `storage-server`: it tells whether the call names a client
 * or a spec verb (verbs.ts, bundled in, so that choosing costs one small file, not two) and, when it
 * does, runs that body (client-main.ts, spec-main.ts) through its cache, as the storage-server's
 * entry does (runtime/common/code-cache.ts). A missing or rejected cache only costs the compile it
 * would have saved.
 */
import { fileURLToPath } from 'node:url';
import { runBundle } from '../common/code-cache.js';
import { CLI_CLIENT_BODY, CLI_CLIENT_CACHE, CLI_SPEC_BODY, CLI_SPEC_CACHE } from './client-bundle-files.js';
import { isClientVerb, isSpecVerb, verbOf } from './verbs.js';

/**
 * Runs the call `argv` (node, script, ...args) from the client bundle when it names a client verb,
 * from the spec bundle when it names a spec verb.
 * @returns false, having run nothing, when it does not: the call is the full CLI's.
 */
export function runClientCall(argv: readonly string[]): boolean {
  const verb = verbOf(argv);
  const [body, cache] = isClientVerb(verb) ? [CLI_CLIENT_BODY, CLI_CLIENT_CACHE] : isSpecVerb(verb) ? [CLI_SPEC_BODY, CLI_SPEC_CACHE] : [];
  if (body === undefined || cache === undefined) return false;
  runBundle(fileURLToPath(new URL(body, import.meta.url)), fileURLToPath(new URL(cache, import.meta.url)));
  return true;
}
