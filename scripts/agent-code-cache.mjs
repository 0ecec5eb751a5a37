/**
 * Writes the agent's V8 code cache (run by scripts/bundle.mjs after bundling): starts a master of
 * this build (a child) and the agent bundle in this process against it, on 127.0.0.1 with
 * throw-away data dirs; once the agent serves and has had a second to register and heartbeat,
 * saves the cache beside the bundle (so it holds what an agent's start compiles, the master link
 * included, and not the node paths an idle agent never runs) and exits
 * (scripts/code-cache-writer.mjs).
 */
import { join } from 'node:path';
import { compileBundle } from '../dist/runtime/common/code-cache.js';
import { AGENT_BUNDLE_BODY, AGENT_BUNDLE_CACHE } from '../dist/runtime/agent/bundle-files.js';
import { BUNDLE_OUT, cacheWriter } from './code-cache-writer.mjs';

const writer = cacheWriter('agent-code-cache');
const masterAddress = await writer.startMaster();

// The agent prints its listening line on stdout; everything else passes through.
const listening = new Promise((resolve) => {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk, ...rest) => {
    const m = /agent code-cache listening on/.test(String(chunk));
    if (m) resolve();
    return m ? true : write(chunk, ...rest);
  };
});
process.env.LOG_LEVEL = 'error';
const bundle = compileBundle(join(BUNDLE_OUT, AGENT_BUNDLE_BODY));
process.argv = [process.argv[0], join(BUNDLE_OUT, AGENT_BUNDLE_BODY), 'agent', '--id', 'code-cache', '--master', masterAddress, '--listen', '127.0.0.1:0', '--data-dir', join(writer.data, 'agent'), '--heartbeat-interval', '250ms'];
bundle.run();
await listening;
await new Promise((r) => setTimeout(r, 1000));
await writer.save(bundle, AGENT_BUNDLE_CACHE);
