#!/usr/bin/env node
// Thin launcher: the CLI is built by `npm run build` (the prepare script of `npm ci`): the bundles in
// dist/runtime/bundle/ (scripts/bundle.mjs), else the tsc output under dist/. Three kinds of call skip
// the full CLI's ES modules, whose compile Node 20 cannot cache, for a CommonJS bundle run through
// its V8 code cache (runtime/common/code-cache.ts):
// - `storage-server`, started once per node, whose start-up time is on every spawn's path; its
//   entry guards its own output and exits when the server has stopped;
// - the light client verbs (`status`, `list-nodes`...: runtime/cli/verbs.ts), a call of which is
//   mostly start-up, and the spec verbs (`validate`, `plan`, `apply`), each kind from its own bundle;
//   they behave as in the full CLI (runtime/cli/client-main.ts, spec-main.ts);
// - `agent`, for its idle RSS: its bundle (runtime/agent/main.ts) reads the agent's flags itself.
// `sutra-grid --version` alone is answered here, from package.json.
// This file is CommonJS (bin/package.json) so that those calls never start Node's ES module loader.
// Every path survives a reader of its output that went away (`... | head`, a closed terminal): see
// runtime/cli/std-streams.ts.
'use strict';
const { existsSync, writeSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

const dist = join(__dirname, '..', 'dist', 'runtime');
const bundle = join(dist, 'bundle');
const bundled = existsSync(join(bundle, 'cli.js')) && existsSync(join(bundle, 'storage-server.cjs'));
const [verb, ...rest] = process.argv.slice(2);
if ((verb === '--version' || verb === '-V') && rest.length === 0) {
  // Alone, without loading the CLI, whose every verb a call naming none loads (runtime/cli/program.ts
  // answers the flag among other global flags, from the same file).
  try {
    writeSync(1, `${require('../package.json').version}\n`);
  } catch {
    // A reader that went away (`... | head -c0`): there is nobody left to tell.
  }
} else if (verb === 'storage-server' && !rest.includes('-h') && !rest.includes('--help')) {
  if (bundled) require(join(bundle, 'storage-server.cjs'));
  else esm(join(dist, 'storage', 'main.js'));
} else if (verb === 'agent' && !rest.includes('-h') && !rest.includes('--help') && existsSync(join(bundle, 'agent.cjs')) && existsSync(join(bundle, 'agent-body.cjs'))) {
  // The agent without the CLI: one CommonJS bundle through its code cache (runtime/agent/bundle-main.ts).
  require(join(bundle, 'agent.cjs'));
} else if (!(bundled && existsSync(join(bundle, 'cli-client.cjs')) && require(join(bundle, 'cli-client.cjs')).runClientCall(process.argv))) {
  // Not a client or spec verb (the verb the CLI itself finds: runtime/cli/verbs.ts), or no bundle.
  esm(bundled ? join(bundle, 'cli.js') : join(dist, 'cli', 'main.js'));
}

/** Runs the ES module `file`; a failure to load it is an unhandled rejection: its stack, exit code 1. */
function esm(file) {
  void import(pathToFileURL(file).href);
}
