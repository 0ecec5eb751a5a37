/**
 * Writes the agent's V8 code cache (run by scripts/bundle.mjs after bundling): starts a master of
 * this build (the CLI bundle, a child process) and the agent bundle in this process against it,
 * on 127.0.0.1 with throw-away data dirs; once the agent serves and has had a second to register
 * and heartbeat, saves the cache beside the bundle (so it holds what an agent's start compiles, the
 * master link included, and not the node paths an idle agent never runs) and exits. A start whose
 * cache is missing or rejected only compiles as before (runtime/common/code-cache.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileBundle } from '../dist/runtime/common/code-cache.js';
import { AGENT_BUNDLE_BODY, AGENT_BUNDLE_CACHE } from '../dist/runtime/agent/bundle-files.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, 'dist', 'runtime', 'bundle');
const data = mkdtempSync(join(tmpdir(), 'sg-agent-code-cache-'));
let master;
const cleanup = () => {
  master?.kill('SIGKILL');
  rmSync(data, { recursive: true, force: true });
};
const fail = (why) => {
  process.stderr.write(`agent-code-cache: ${why}\n`);
  cleanup();
  process.exit(1);
};
setTimeout(() => fail('the agent did not serve within 30 s'), 30_000).unref();

// The master logs its address once it listens (on stderr; its logs are read, not shown).
master = spawn(process.execPath, [join(outdir, 'cli.js'), 'master', '--listen', '127.0.0.1:0', '--data-dir', join(data, 'master')], {
  stdio: ['ignore', 'ignore', 'pipe'],
  env: { ...process.env, LOG_LEVEL: 'info' },
});
master.once('exit', (code, signal) => fail(`the master exited (${code ?? signal}) before the cache was written`));
const masterAddress = await new Promise((resolve) => {
  let out = '';
  master.stderr.on('data', (c) => {
    out += c;
    const m = /master listening on ([^\s"]+)/.exec(out);
    if (m) resolve(m[1]);
  });
});

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
const bundle = compileBundle(join(outdir, AGENT_BUNDLE_BODY));
process.argv = [process.argv[0], join(outdir, AGENT_BUNDLE_BODY), 'agent', '--id', 'code-cache', '--master', masterAddress, '--listen', '127.0.0.1:0', '--data-dir', join(data, 'agent'), '--heartbeat-interval', '250ms'];
bundle.run();
await listening;
await new Promise((r) => setTimeout(r, 1000));
const cacheFile = join(outdir, AGENT_BUNDLE_CACHE);
writeFileSync(`${cacheFile}.tmp`, bundle.createCache());
renameSync(`${cacheFile}.tmp`, cacheFile);
master.removeAllListeners('exit');
cleanup();
process.exit(0);
