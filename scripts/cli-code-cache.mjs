/**
 * Writes the V8 code cache of the CLI's client bundle (run by scripts/bundle.mjs after bundling):
 * starts a master of this build as a child on 127.0.0.1:0 with a throw-away data dir, runs the
 * bundle's `status`, `list-agents` and `list-nodes` against it in this process (so the cache holds
 * what a call compiles: the program, gRPC's connect, the call, protobuf's decode, the output), then
 * saves the cache beside the bundle (scripts/code-cache-writer.mjs). The other client verbs compile
 * what they add.
 */
import { join } from 'node:path';
import { compileBundle } from '../dist/runtime/common/code-cache.js';
import { CLI_CLIENT_BODY, CLI_CLIENT_CACHE } from '../dist/runtime/cli/client-bundle-files.js';
import { BUNDLE_OUT, cacheWriter } from './code-cache-writer.mjs';

/**
 * The calls the cache is made from, and what each must print (the master has no agent yet). They
 * share most of what they compile; each adds its own command and output (~1% to the cache).
 */
const WARM_CALLS = [
  [['status'], /^health\s/m],
  [['--json', 'status'], /"health"/],
  [['list-agents'], /^\(no agents registered\)$/m],
  [['list-nodes'], /^\(no nodes\)$/m],
];

const writer = cacheWriter('cli-code-cache');
const address = await writer.startMaster();

// Each call ends in process.exit (runtime/cli/client-main.ts): caught here, with what it printed.
// The calls share one compiled script, so the cache holds what any of them compiled.
const bundle = compileBundle(join(BUNDLE_OUT, CLI_CLIENT_BODY));
let printed = '';
process.stdout.write = (chunk) => ((printed += String(chunk)), true);
for (const [args, expected] of WARM_CALLS) {
  printed = '';
  const called = new Promise((resolve) => {
    process.exit = (code) => resolve(code ?? 0);
  });
  process.argv = [process.argv[0], join(BUNDLE_OUT, CLI_CLIENT_BODY), '--master', address, ...args];
  bundle.run();
  const code = await called;
  if (code !== 0 || !expected.test(printed)) await writer.fail(`${args.join(' ')} exited ${code}, printing ${JSON.stringify(printed)}`);
}
await writer.save(bundle, CLI_CLIENT_CACHE);
