/**
 * Lean entry point of the agent: `sutra-grid agent ...` without the CLI. bin/sutra-grid.js runs its
 * bundle (runtime/agent/bundle-main.ts: one CommonJS file through V8's code cache, no ES module
 * chunks to link) for the `agent` verb, so an idle agent holds only what an agent runs: no
 * commander, no other verb's code (issue 17). It behaves as the CLI's `agent` command: the same
 * flags (agent-flags.ts), the same one-line errors and exit codes, and the same stdio guards.
 * No top-level await: the bundle is CommonJS.
 */
import { formatError } from '../../errors/index.js';
import { drainStdio, exitProcess, guardStdio } from '../cli/std-streams.js';
import { shortCircuitIPv6Check } from '../common/ipv6-check.js';
import { AgentArgvError, parseAgentArgv } from './agent-flags.js';
import { runAgentCommand } from './run-agent.js';

/** Runs the agent of `args` (what follows the `agent` verb) until it stops; the exit code. */
async function main(args: readonly string[]): Promise<number> {
  let flags;
  try {
    flags = parseAgentArgv(args);
  } catch (err) {
    if (!(err instanceof AgentArgvError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 1;
  }
  try {
    await runAgentCommand(flags);
  } catch (err) {
    process.stderr.write(`agent: ${(err as Error).message}\n`);
    return 1;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

// As the CLI's entry: a reader of the output that went away must not kill the agent (std-streams.ts),
// and grpc-js' IPv6 test of every address must not compile Node's regex (ipv6-check.ts).
guardStdio();
shortCircuitIPv6Check();
const argv = process.argv.slice(2);
// Tolerates the verb, as bin/sutra-grid.js passes the command line through.
if (argv[0] === 'agent') argv.shift();
void main(argv).then(
  async (code) => {
    await drainStdio();
    exitProcess(code);
  },
  async (err: unknown) => {
    process.stderr.write(`error: ${formatError(err)}\n`);
    await drainStdio();
    exitProcess(1);
  },
);
