/**
 * Bundles the entry points into dist/runtime/bundle/ (run by `npm run build` after tsc):
 * - storage-server.cjs: the storage-server's entry (runtime/storage/bundle-main.ts), which runs
 *   storage-server-body.cjs, the server in one CommonJS file, no chunks (agents spawn it once per
 *   node; loading one file instead of ~160 modules is most of its start-up), through V8's code cache
 *   storage-server-body.cache that scripts/storage-code-cache.mjs then writes after a warm start
 *   (compiling the bundle was most of what remained: runtime/common/code-cache.ts);
 * - cli.js: `sutra-grid` with code splitting, so each verb's chunk (agent, master, status...) is
 *   loaded only when that verb runs (runtime/cli/main.ts imports commands lazily);
 * - spec-worker-main.js: the master's spec worker thread, found beside the chunk that starts it;
 * - agent.cjs: `sutra-grid agent` without the CLI (bin/sutra-grid.js runs it for that verb), which
 *   runs agent-body.cjs, the agent in one CommonJS file, through the code cache agent-body.cache
 *   that scripts/agent-code-cache.mjs writes after a warm start, as the storage-server does; with
 *   node-forge.cjs, forge on its own, which only an agent with TLS loads.
 * - cli-client.cjs: the client verbs of `sutra-grid` (status, list-nodes...: runtime/cli/verbs.ts),
 *   which run cli-client-body.cjs through the code cache cli-client-body.cache that
 *   scripts/cli-code-cache.mjs writes after warm calls, as the storage-server does; bin/sutra-grid.js
 *   first asks cli-client.cjs whether a call is one of theirs;
 * - cli-spec-body.cjs: the spec verbs (validate, plan, apply), run likewise by cli-client.cjs
 *   through cli-spec-body.cache (the same writer).
 * bin/sutra-grid.js and the agent's default storage binary (runtime/storage/entry.ts) use these
 * when present and fall back to the tsc output in dist/ otherwise. Minified: V8 keeps every
 * script's source in the heap, so a smaller source is a smaller idle RSS.
 */
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLE_WRAPPER_HEAD, BUNDLE_WRAPPER_TAIL } from '../dist/runtime/common/code-cache.js';
import { GRPC_JS_NEVER_RUN, GRPC_JS_SERVER, grpcJsLeftOut } from './grpc-js-left-out.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/runtime/bundle`;

/**
 * Not bundled: native addons (fs-ext, dockerode's ssh2), packages that read files beside their own
 * code at run time (etcd3's .proto files, fastify's plugins), and what only the docker platform,
 * the HTTP API or the providers load. They are loaded from node_modules when a chunk imports them.
 * grpc-js requires @grpc/proto-loader (and with it protobufjs, a fifth of the storage-server's
 * bundle) only to serve channelz and ORCA, which the grid does not enable.
 */
const external = ['@grpc/proto-loader', 'fs-ext', 'dockerode', 'etcd3', 'fastify', '@fastify/*', '@pulumi/*', 'cdktf', '@cdktf/*', 'constructs', 'playwright-core'];

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  // Keeps class and function names: error codes, logs and stack traces stay readable.
  keepNames: true,
  external,
  outdir,
  logLevel: 'warning',
  // CommonJS dependencies call require() for Node's own modules, which an ES module has not got.
  banner: { js: "import { createRequire as __sgCreateRequire } from 'node:module'; const require = __sgCreateRequire(import.meta.url);" },
};

/**
 * The storage-server is CommonJS: V8's code cache is reachable from Node 20 only through vm.Script,
 * which runs scripts, not ES modules. CommonJS has `require` of its own (no banner) and no
 * import.meta; the entry finds the body beside its own file.
 */
const storage = {
  ...common,
  format: 'cjs',
  banner: { js: "const __sgImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__sgImportMetaUrl' },
  // Without keepNames: its wrapper call around every function cost ~0.3 MB of every node's idle
  // RSS. The server's errors carry explicit names and codes; only stack frames show short names.
  keepNames: false,
};

/**
 * ts-proto writes each generated client as `export const XClient = makeGenericClientConstructor(...)`,
 * a call esbuild must keep, and with it the whole service definition and every message of the file,
 * although a bundle uses one client of four files. The call has no side effect: marked pure, an
 * unused client, its service and the messages only it names are left out (the agent keeps ~40% of
 * the generated code it carried).
 */
const pureGeneratedClients = {
  name: 'pure-generated-clients',
  setup(b) {
    b.onLoad({ filter: /[\\/]proto[\\/]gen[\\/].*\.pb\.ts$/ }, async (args) => ({
      loader: 'ts',
      contents: (await readFile(args.path, 'utf8')).replaceAll('= makeGenericClientConstructor(', '= /* @__PURE__ */ makeGenericClientConstructor('),
    }));
  },
};

/**
 * Edits to grpc-js that keep V8 from setting up its local time zone, which it does from ICU's data
 * on the first Date operation in local time: ~0.5-0.9 MB of RSS that every storage-server and agent
 * kept for good (issue 17), for time zones the grid never shows. The build fails if grpc-js's code
 * no longer reads as expected: an edit must not silently stop applying.
 * - Its server answers every call through Node's http2 `respond()`, which adds a `date` header
 *   unless told not to (formatted with Date's toUTCString). gRPC does not use the header (grpc-go
 *   and grpc-c++ send none), so the bundled servers answer without it.
 * - Its backoff timer (every channel's reconnection and name resolution) moves its end time with
 *   `setMilliseconds(getMilliseconds() + delay)`, local-time fields, where `setTime(getTime() +
 *   delay)` is the same instant (and stays right across a daylight-saving change).
 */
const GRPC_JS_EDITS = [
  [/[\\/]@grpc[\\/]grpc-js[\\/]build[\\/]src[\\/]server-interceptors\.js$/, [['waitForTrailers: true,', 'waitForTrailers: true, sendDate: false,', 1], ['this.stream.respond(trailersToSend, { endStream: true });', 'this.stream.respond(trailersToSend, { endStream: true, sendDate: false });', 1]]],
  [/[\\/]@grpc[\\/]grpc-js[\\/]build[\\/]src[\\/]server\.js$/, [['}, { endStream: true });', '}, { endStream: true, sendDate: false });', 1], ['stream.respond(trailersToSend, { endStream: true });', 'stream.respond(trailersToSend, { endStream: true, sendDate: false });', 1]]],
  [/[\\/]@grpc[\\/]grpc-js[\\/]build[\\/]src[\\/]backoff-timeout\.js$/, [['this.endTime.setMilliseconds(this.endTime.getMilliseconds() + delay);', 'this.endTime.setTime(this.endTime.getTime() + delay);', 1], ['newEndTime.setMilliseconds(newEndTime.getMilliseconds() + this.nextDelay);', 'newEndTime.setTime(newEndTime.getTime() + this.nextDelay);', 1]]],
];
const grpcWithoutTimeZone = {
  name: 'grpc-without-time-zone',
  setup(b) {
    for (const [filter, edits] of GRPC_JS_EDITS) {
      b.onLoad({ filter }, async (args) => {
        let contents = await readFile(args.path, 'utf8');
        for (const [from, to, times] of edits) {
          const found = contents.split(from).length - 1;
          if (found !== times) throw new Error(`grpc-without-time-zone: ${args.path} has ${found} of ${JSON.stringify(from)}, expected ${times}`);
          contents = contents.replaceAll(from, to);
        }
        return { contents, loader: 'js' };
      });
    }
  },
};

/**
 * The agent's body requires node-forge from its own bundle beside it (built below), not from
 * node_modules file by file: only an agent with TLS loads forge (runtime/common/pki/certs.ts loads
 * it on first use), and a plaintext agent then carries none of its source.
 */
const forgeBeside = {
  name: 'forge-beside',
  setup(b) {
    b.onResolve({ filter: /^node-forge$/ }, () => ({ path: './node-forge.cjs', external: true }));
  },
};

/**
 * worker_threads, for the agent: pino reads `isMainThread` from it as it loads (only to decide
 * whether an asynchronous destination is flushed at exit) and thread-stream its `Worker` (only for
 * pino's transports, which the grid does not use). Loading it, and Node's worker internals with
 * it, for that was ~0.3 MB of an idle agent's RSS. The agent's body only ever runs as a process's
 * main script (bin/sutra-grid.js, scripts/agent-code-cache.mjs), so there the answer is known; a
 * Worker constructed, or anything else read, loads the module then.
 */
const agentWorkerThreads = {
  name: 'agent-worker-threads',
  setup(b) {
    b.onResolve({ filter: /^(node:)?worker_threads$/ }, (args) => (args.namespace === 'agent-worker-threads' ? undefined : { path: 'worker_threads', namespace: 'agent-worker-threads' }));
    b.onLoad({ filter: /.*/, namespace: 'agent-worker-threads' }, () => ({
      contents: [
        "let m; const real = () => (m ??= require('node:worker_threads'));",
        'function Worker(...args) { return new (real().Worker)(...args); }',
        "module.exports = new Proxy({}, { get: (_, key) => (key === 'isMainThread' ? true : key === 'Worker' ? Worker : real()[key]) });",
      ].join('\n'),
      loader: 'js',
    }));
  },
};

/**
 * The agent: CommonJS like the storage-server, for the same code cache (runtime/agent/bundle-main.ts).
 * Without keepNames: its `__name` call per function and class, run as the bundle loads, gave each one
 * its own "name" property, ~0.7 MB of an idle agent's RSS. Nothing of the agent reads a function's
 * name (its errors set theirs: GridError and subclasses), so only stack traces show minified names,
 * and their positions in the bundle still point at the function.
 */
const agent = { ...storage, keepNames: false, plugins: [grpcJsLeftOut(GRPC_JS_NEVER_RUN), pureGeneratedClients, forgeBeside, agentWorkerThreads, lazyBuiltins(['zlib']), grpcWithoutTimeZone], outExtension: { '.js': '.cjs' } };

/**
 * A body bundle (the storage-server's, the agent's, the client verbs'), written inside the function Node wraps
 * CommonJS in: the file is the very script runtime/common/code-cache.ts compiles, with no second
 * copy of its source made at each start. A hashbang goes: a body is run only through its entry.
 */
async function buildBody(options, name, entry) {
  const result = await build({ ...options, entryPoints: { [name]: entry }, outExtension: { '.js': '.cjs' }, write: false });
  for (const file of result.outputFiles) {
    const text = file.text.startsWith('#!') ? file.text.slice(file.text.indexOf('\n') + 1) : file.text;
    mkdirSync(dirname(file.path), { recursive: true });
    writeFileSync(file.path, `${BUNDLE_WRAPPER_HEAD}${text}${BUNDLE_WRAPPER_TAIL}`);
  }
}

/**
 * Makes `require()` of the Node modules `names` lazy: the module is loaded on first use of one of
 * its properties. grpc-js loads zlib at start-up for compression the grid never negotiates, and
 * commander child_process for subcommands run as programs, which the CLI has none of; loading
 * them was ~4 ms of a `status` call. Only where nothing reads them at load time.
 */
function lazyBuiltins(names) {
  const filter = new RegExp(`^(node:)?(${names.join('|')})$`);
  return {
    name: 'lazy-builtins',
    setup(b) {
      // Only require() calls: an ES import goes through esbuild's interop, which copies the module's
      // properties at load time (and finds none on the proxy).
      b.onResolve({ filter }, (args) =>
        args.namespace === 'lazy-builtin' || args.kind !== 'require-call' ? undefined : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' },
      );
      b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
        contents: `let m; module.exports = new Proxy({}, { get: (_, key) => (m ??= require('node:${args.path}'))[key] });`,
        loader: 'js',
      }));
    },
  };
}

/** The CLI's CommonJS bodies: a client of the grid only (no gRPC server), without the modules a call never loads. */
const cliBody = { ...storage, plugins: [grpcJsLeftOut([...GRPC_JS_NEVER_RUN, ...GRPC_JS_SERVER]), lazyBuiltins(['zlib', 'child_process', 'dns']), pureGeneratedClients, grpcWithoutTimeZone] };

rmSync(outdir, { recursive: true, force: true });
await Promise.all([
  buildBody({ ...storage, plugins: [grpcJsLeftOut(GRPC_JS_NEVER_RUN), lazyBuiltins(['zlib']), pureGeneratedClients, grpcWithoutTimeZone] }, 'storage-server-body', 'runtime/storage/main.ts'),
  build({ ...storage, entryPoints: { 'storage-server': 'runtime/storage/bundle-main.ts' }, outExtension: { '.js': '.cjs' } }),
  buildBody(agent, 'agent-body', 'runtime/agent/main.ts'),
  build({ ...agent, entryPoints: { agent: 'runtime/agent/bundle-main.ts' } }),
  build({ ...storage, entryPoints: { 'node-forge': 'node_modules/node-forge/lib/index.js' }, outExtension: { '.js': '.cjs' } }),
  build({
    ...common,
    // Identifiers are not renamed here, so names stay readable without keepNames: keepNames wraps
    // every function expression in a call that gives the function its own "name" property, on
    // each evaluation. grpc-js creates several such closures per call and stream, and in the master
    // (10,000 agents, one stream each) they were ~0.8 KB of heap per agent.
    minify: false,
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: false,
    entryPoints: { cli: 'runtime/cli/main.ts', 'spec-worker-main': 'runtime/master/reconcile/spec-worker-main.ts' },
    splitting: true,
    chunkNames: 'chunk-[hash]',
  }),
  // The CLI's client verbs (runtime/cli/verbs.ts), one CommonJS file run through its code cache as
  // the storage-server is: most of a `status` call was the ES module loader compiling cli.js's
  // chunks, which Node 20 cannot code-cache. Its entry, cli-client.cjs, also tells bin/sutra-grid.js
  // which calls are theirs (one file to load, not two: ~0.3 ms a call). A call for the full CLI
  // loads it too, and with it the code cache's crypto, module and vm: the full CLI loads the first
  // two itself, and vm is ~0.05 ms.
  // dns: grpc-js' DNS resolver requires it at load, but a master given by IP address is dialled
  // through its IP resolver (client/channel-target.ts), so a call to one never loads it (~0.4 ms).
  buildBody(cliBody, 'cli-client-body', 'runtime/cli/client-main.ts'),
  // The spec verbs likewise: a `validate` spent most of its time in the ES module loader compiling
  // the CLI's chunks and in compiling the YAML library, which the cache holds once warm.
  buildBody(cliBody, 'cli-spec-body', 'runtime/cli/spec-main.ts'),
  build({ ...storage, entryPoints: { 'cli-client': 'runtime/cli/client-bundle-main.ts' }, outExtension: { '.js': '.cjs' } }),
]);

// The code cache, from a warm start of the body just built (a separate process: it runs a server).
// Without it the storage-server only starts slower, so a host where the warm start cannot run (no
// loopback) still gets a build, with the warning; test/storage/code-cache.test.ts fails without it.
const cache = spawnSync(process.execPath, [`${root}scripts/storage-code-cache.mjs`], { stdio: 'inherit' });
if (cache.status !== 0) process.stderr.write(`bundle: WARNING: no storage-server code cache (scripts/storage-code-cache.mjs exit ${cache.status ?? cache.signal}); nodes start without it\n`);

// The agent's code cache, likewise (a warm start against a master of this build).
const agentCache = spawnSync(process.execPath, [`${root}scripts/agent-code-cache.mjs`], { stdio: 'inherit' });
if (agentCache.status !== 0) process.stderr.write(`bundle: WARNING: no agent code cache (scripts/agent-code-cache.mjs exit ${agentCache.status ?? agentCache.signal}); agents start without it\n`);

// The client and spec bundles' caches, from `status`, `validate` and `plan` calls against a master
// of this build (in a child: they run a server and exit). As above: without them the client and
// spec verbs only start slower.
const cliCache = spawnSync(process.execPath, [`${root}scripts/cli-code-cache.mjs`], { stdio: 'inherit' });
if (cliCache.status !== 0) process.stderr.write(`bundle: WARNING: no CLI code caches (scripts/cli-code-cache.mjs exit ${cliCache.status ?? cliCache.signal}); client and spec verbs start without them\n`);
