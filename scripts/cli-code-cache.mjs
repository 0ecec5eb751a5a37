/**
 * Writes the V8 code cache of the CLI's client bundle (run by scripts/bundle.mjs after bundling):
 * starts a master of this build as a child on 127.0.0.1:0 with a throw-away data dir, runs the
 * bundle's `status`, `list-agents` and `list-nodes` against it in this process (so the cache holds
 * what a call compiles: the program, gRPC's connect, the call, protobuf's decode, the output), then
 * saves the cache beside the bundle. A call whose cache is missing or rejected only compiles as
 * before (runtime/common/code-cache.ts); the other client verbs compile what they add.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileBundle } from '../dist/runtime/common/code-cache.js';
import { CLI_CLIENT_BODY, CLI_CLIENT_CACHE } from '../dist/runtime/cli/client-bundle-files.js';

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

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, 'dist', 'runtime', 'bundle');
const data = mkdtempSync(join(tmpdir(), 'sg-cli-code-cache-'));
const exit = process.exit.bind(process);
const master = spawn(process.execPath, [join(root, 'bin', 'sutra-grid.js'), 'master', '--listen', '127.0.0.1:0', '--data-dir', join(data, 'master')], {
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, LOG_LEVEL: 'info' },
});
/** Stops the master, removes the data dir and exits; the promise it returns never settles. */
const done = (code, why) => {
  if (why !== undefined) process.stderr.write(`cli-code-cache: ${why}\n`);
  master.removeAllListeners('exit');
  // The data dir goes once the master is gone (it writes there until then).
  master.once('exit', () => {
    rmSync(data, { recursive: true, force: true });
    exit(code);
  });
  if (master.exitCode !== null || master.signalCode !== null) master.emit('exit');
  else master.kill('SIGKILL');
  return new Promise(() => {});
};
setTimeout(() => done(1, 'the calls did not finish within 30 s'), 30_000).unref();

// The master logs (on stderr) the address it listens on; its log is shown only when it fails.
let log = '';
const address = await new Promise((resolve) => {
  const read = (chunk) => {
    log += String(chunk);
    const m = /master listening on ([^\s"]+)/.exec(log);
    if (m) resolve(m[1]);
  };
  master.stdout.on('data', read);
  master.stderr.on('data', read);
  master.once('exit', (code, signal) => done(1, `the master exited (${code ?? signal}) before it listened:\n${log}`));
});

// Each call ends in process.exit (runtime/cli/client-main.ts): caught here, with what it printed.
// The calls share one compiled script, so the cache holds what any of them compiled.
const bundle = compileBundle(join(outdir, CLI_CLIENT_BODY));
let printed = '';
process.stdout.write = (chunk) => ((printed += String(chunk)), true);
for (const [args, expected] of WARM_CALLS) {
  printed = '';
  const called = new Promise((resolve) => {
    process.exit = (code) => resolve(code ?? 0);
  });
  process.argv = [process.argv[0], join(outdir, CLI_CLIENT_BODY), '--master', address, ...args];
  bundle.run();
  const code = await called;
  if (code !== 0 || !expected.test(printed)) await done(1, `${args.join(' ')} exited ${code}, printing ${JSON.stringify(printed)}`);
}
const cacheFile = join(outdir, CLI_CLIENT_CACHE);
writeFileSync(`${cacheFile}.tmp`, bundle.createCache());
renameSync(`${cacheFile}.tmp`, cacheFile);
done(0);
