#!/usr/bin/env node
/**
 * Lean entry point of the storage-server. Agents spawn its bundle (scripts/bundle.mjs) directly with
 * `process.execPath` (no commander, no pino, no CLI tree) because one is started per node and its
 * start-up time is on the spawn-to-running path; the docker image runs the compiled file.
 * No top-level await: the bundle is CommonJS, so that it can run through V8's code cache (code-cache.ts).
 */
import { GridError } from '../errors.js';
import { guardStdio } from '../cli/std-streams.js';
import { EXIT_FAILED, EXIT_PORT_TAKEN } from './exit-codes.js';
import { shortCircuitIPv6Check } from '../common/ipv6-check.js';
import { runStorageServer } from './run-storage-server.js';
import { parseStorageArgv } from './storage-options.js';

async function main(): Promise<void> {
  // A reader of its output that went away must not kill a serving node (std-streams.ts).
  guardStdio();
  // Before grpc-js binds: its first IPv6 test of the address would compile Node's regex (ipv6-check.ts).
  shortCircuitIPv6Check();
  // Tolerates the CLI verb, so a launcher may route `sutra-grid storage-server ...` here directly.
  const argv = process.argv.slice(2);
  if (argv[0] === 'storage-server') argv.shift();
  try {
    await runStorageServer(parseStorageArgv(argv));
  } catch (err) {
    process.stderr.write(`storage-server: ${(err as Error).message}\n`);
    // The agent moves a node that exits EXIT_PORT_TAKEN to another port instead of counting a crash.
    process.exitCode = err instanceof GridError && err.code === 'PORT_IN_USE' ? EXIT_PORT_TAKEN : EXIT_FAILED;
  }
  // The server has stopped and flushed: exit now, even if a connection to a stalled client is still
  // half-closed (it would keep the event loop alive until the agent's SIGKILL).
  process.exit();
}

void main();
