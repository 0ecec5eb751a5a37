#!/usr/bin/env node
// Thin launcher: the CLI is compiled TypeScript under dist/ (built by `npm ci` via the prepare script).
// `storage-server` skips the CLI and its dependencies: it is started once per node, and its start-up
// time is on every spawn's path. Both paths survive a reader of their output that went away
// (`... | head`, a closed terminal): see runtime/cli/std-streams.ts.
const [verb, ...rest] = process.argv.slice(2);
if (verb === 'storage-server' && !rest.includes('-h') && !rest.includes('--help')) {
  const { drainStdio, exitProcess, guardStdio } = await import('../dist/runtime/cli/std-streams.js');
  guardStdio();
  await import('../dist/runtime/storage/main.js');
  // The server has stopped (its main module finished).
  await drainStdio();
  exitProcess(typeof process.exitCode === 'number' ? process.exitCode : 0);
} else {
  await import('../dist/runtime/cli/main.js');
}
