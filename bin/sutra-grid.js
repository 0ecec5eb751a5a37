#!/usr/bin/env node
// Thin launcher: the CLI is built by `npm run build` (the prepare script of `npm ci`): the bundles in
// dist/runtime/bundle/ (scripts/bundle.mjs), else the tsc output under dist/. `storage-server`
// skips the CLI and its dependencies: it is started once per node, and its start-up time is on
// every spawn's path (the bundle runs through its V8 code cache: runtime/storage/code-cache.ts); its entry guards its own output and exits when the server has stopped.
// `agent` skips it too, for its idle RSS: its bundle (runtime/agent/main.ts) reads the agent's flags itself. All
// paths survive a reader of their output that went away (`... | head`, a closed terminal): see
// runtime/cli/std-streams.ts.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/runtime/bundle/', import.meta.url);
const bundled = existsSync(new URL('cli.js', bundle)) && existsSync(new URL('storage-server.cjs', bundle));
const [verb, ...rest] = process.argv.slice(2);
if (verb === 'storage-server' && !rest.includes('-h') && !rest.includes('--help')) {
  await import(bundled ? new URL('storage-server.cjs', bundle).href : '../dist/runtime/storage/main.js');
} else if (verb === 'agent' && !rest.includes('-h') && !rest.includes('--help') && existsSync(new URL('agent.cjs', bundle)) && existsSync(new URL('agent-body.cjs', bundle))) {
  // The agent without the CLI: one CommonJS bundle through its code cache (runtime/agent/bundle-main.ts).
  await import(new URL('agent.cjs', bundle).href);
} else {
  await import(bundled ? new URL('cli.js', bundle).href : '../dist/runtime/cli/main.js');
}
