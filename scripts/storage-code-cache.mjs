/**
 * Writes the storage-server's V8 code cache (run by scripts/bundle.mjs after bundling): starts the
 * bundle in this process on 127.0.0.1:0 with a throw-away storage dir, waits for its health check
 * to say SERVING (so the cache holds what a start compiles up to there, the health handler
 * included), then saves the cache beside the bundle and exits (scripts/code-cache-writer.mjs).
 */
import { join } from 'node:path';
import { compileBundle } from '../dist/runtime/common/code-cache.js';
import { STORAGE_BUNDLE_BODY, STORAGE_BUNDLE_CACHE } from '../dist/runtime/storage/bundle-files.js';
import { HealthProbe } from '../dist/runtime/agent/health-probe.js';
import { BUNDLE_OUT, cacheWriter } from './code-cache-writer.mjs';

const writer = cacheWriter('storage-code-cache');

// The server prints its address on stdout once it listens; everything else passes through.
const address = new Promise((resolve) => {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk, ...rest) => {
    const m = /storage-server listening on (\S+)/.exec(String(chunk));
    if (m) resolve(m[1]);
    return m ? true : write(chunk, ...rest);
  };
});
const bundle = compileBundle(join(BUNDLE_OUT, STORAGE_BUNDLE_BODY));
process.argv = [process.argv[0], join(BUNDLE_OUT, STORAGE_BUNDLE_BODY), '--port', '0', '--host', '127.0.0.1', '--storage-path', join(writer.data, 'node'), '--memory', '64'];
bundle.run();
const probe = new HealthProbe(await address);
if (!(await probe.waitServing(10, 20_000, new AbortController().signal))) await writer.fail('the storage-server never answered SERVING');
probe.close();
await writer.save(bundle, STORAGE_BUNDLE_CACHE);
