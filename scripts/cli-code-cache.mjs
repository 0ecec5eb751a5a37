/**
 * Writes the V8 code caches of the CLI's client and spec bundles (run by scripts/bundle.mjs after
 * bundling): starts a master of this build as a child on 127.0.0.1:0 with a throw-away data dir,
 * runs each bundle's calls against it in this process (so a cache holds what a call compiles: the
 * program, gRPC's connect, the call, protobuf's decode, the YAML parser and the schema check, the
 * output), then saves each cache beside its bundle (scripts/code-cache-writer.mjs). The other
 * verbs of a bundle compile what they add.
 */
import { join } from 'node:path';
import { compileBundle } from '../dist/runtime/common/code-cache.js';
import { CLI_CLIENT_BODY, CLI_CLIENT_CACHE, CLI_SPEC_BODY, CLI_SPEC_CACHE } from '../dist/runtime/cli/client-bundle-files.js';
import { BUNDLE_OUT, cacheWriter } from './code-cache-writer.mjs';

/**
 * The client calls the cache is made from, their exit codes and what each must print (the master
 * has no agent yet). They share most of what they compile; each adds its own command and output
 * (~1% to the cache).
 */
const CLIENT_CALLS = [
  [['status'], 0, /^health\s/m],
  [['--json', 'status'], 0, /"health"/],
  [['list-agents'], 0, /^\(no agents registered\)$/m],
  [['list-nodes'], 0, /^\(no nodes\)$/m],
];

/**
 * The spec calls: the local example, checked, then planned against the master (exit code 2: there
 * are changes; the master has no agents, so the plan also says where nodes cannot be placed).
 */
const SPEC = join(BUNDLE_OUT, '..', '..', '..', 'examples', 'local', 'grid.yaml');
const SPEC_CALLS = [
  [['validate', SPEC], 0, /: valid \(grid /],
  [['plan', SPEC], 2, /^Cannot place:/m],
];

const writer = cacheWriter('cli-code-cache');
const address = await writer.startMaster();

// Each call ends in process.exit (runtime/cli/client-main.ts, spec-main.ts): caught here, with
// what it printed. A bundle's calls share one compiled script, so its cache holds what any compiled.
let printed = '';
process.stdout.write = (chunk) => ((printed += String(chunk)), true);

/** Runs `calls` through the bundle `body`; fails the writer on a call that exits with another code or prints otherwise. */
async function warm(body, calls) {
  const bundle = compileBundle(join(BUNDLE_OUT, body));
  for (const [args, exitCode, expected] of calls) {
    printed = '';
    const called = new Promise((resolve) => {
      process.exit = (code) => resolve(code ?? 0);
    });
    process.argv = [process.argv[0], join(BUNDLE_OUT, body), '--master', address, ...args];
    bundle.run();
    const code = await called;
    if (code !== exitCode || !expected.test(printed)) await writer.fail(`${args.join(' ')} exited ${code}, printing ${JSON.stringify(printed)}`);
  }
  return bundle;
}

writer.write(await warm(CLI_CLIENT_BODY, CLIENT_CALLS), CLI_CLIENT_CACHE);
await writer.save(await warm(CLI_SPEC_BODY, SPEC_CALLS), CLI_SPEC_CACHE);
