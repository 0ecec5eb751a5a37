/**
 * The `sutra-grid` entry point of the spec bundle (scripts/bundle.mjs builds it into
 * dist/runtime/bundle/cli-spec-body.cjs, which client-bundle-main.ts runs through V8's code cache):
 * the spec verbs of verbs.ts only, dispatched by bin/sutra-grid.js. It behaves as main.ts does for
 * those verbs, as client-main.ts does for the client verbs.
 */
import { shortCircuitIPv6Check } from '../common/ipv6-check.js';
import { runCli } from './program.js';
import { SPEC_COMMANDS } from './spec-commands.js';
import { drainStdio, exitProcess, guardStdio } from './std-streams.js';

guardStdio();
// Before any gRPC call: grpc-js' first IPv6 test of an address compiles Node's regex (ipv6-check.ts).
shortCircuitIPv6Check();
void runCli(process.argv, SPEC_COMMANDS).then(async (code) => {
  await drainStdio();
  exitProcess(code);
});
