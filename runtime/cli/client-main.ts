/**
 * The `sutra-grid` entry point of the client bundle (scripts/bundle.mjs builds it into
 * dist/runtime/bundle/cli-client-body.cjs, which client-bundle-main.ts runs through V8's code
 * cache): the light client verbs of verbs.ts only, dispatched here by bin/sutra-grid.js. It
 * behaves as main.ts does for those verbs (same program, same drain and exit); it is CommonJS,
 * which has no top-level await, hence the promise chain.
 */
import { shortCircuitIPv6Check } from '../common/ipv6-check.js';
import { CLIENT_COMMANDS } from './client-commands.js';
import { runCli } from './program.js';
import { drainStdio, exitProcess, guardStdio } from './std-streams.js';

guardStdio();
// Before any gRPC call: grpc-js' first IPv6 test of an address compiles Node's regex (ipv6-check.ts).
shortCircuitIPv6Check();
void runCli(process.argv, CLIENT_COMMANDS).then(async (code) => {
  await drainStdio();
  // As main.ts: a command is done once its output is out, whatever handles a library may still hold.
  exitProcess(code);
});
