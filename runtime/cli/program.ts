/**
 * The `sutra-grid` program both CLI builds run (main.ts: every verb, as ES modules; client-main.ts:
 * the client verbs, one CommonJS bundle): the global flags, the verbs' registration and the one
 * place that turns an error into a line on stderr and exit code 1. Neither entry's table of verbs
 * is imported here, so the client bundle holds none of the others.
 */
import { Command, CommanderError } from 'commander';
import { formatError } from '../../errors/index.js';
// The address module alone: transport.js loads grpc-js, which an offline verb (validate) does not need.
import { DEFAULT_MASTER_ADDRESS as DEFAULT_MASTER } from '../../client/master-address.js';
import { verbOf } from './verbs.js';
import { packageVersion } from './version.js';

/** Adds a verb's command(s) to the program. */
export type Register = (program: Command) => void;

/** Every verb of a build and how to load the module that registers it; the order is the help's order. */
export type CommandTable = Readonly<Record<string, () => Promise<Register>>>;

/** Builds the program with the verb of `argv` registered, or every verb of `commands` when it names none of them. */
async function buildProgram(argv: readonly string[], commands: CommandTable): Promise<Command> {
  const program = new Command('sutra-grid')
    .description('Sutra Grid: a control plane for fleets of storage servers')
    // Daemons have their own --master/--token-file; global flags therefore go before the verb.
    .enablePositionalOptions()
    .exitOverride()
    .option('--master <addr>', `master HOST:PORT or http://HOST:PORT (default $SUTRA_GRID_MASTER, else ${DEFAULT_MASTER})`)
    .option('--token-file <file>', 'file holding the shared token (default: $SUTRA_GRID_TOKEN as the token value)')
    .option('--json', 'machine-readable output')
    .option('-V, --version', 'print the version of sutra-grid and exit');
  // Read only when asked, so that other calls do not read package.json. The call ends here, as
  // Commander's own --version does (runCli turns exit code 0 into a clean exit).
  program.on('option:version', () => {
    const version = packageVersion();
    process.stdout.write(`${version}\n`);
    throw new CommanderError(0, 'sutra-grid.version', version);
  });
  const verb = verbOf(argv);
  const own = verb !== undefined && Object.hasOwn(commands, verb) ? commands[verb] : undefined;
  const loaders = own !== undefined ? [own] : [...new Set(Object.values(commands))];
  for (const register of await Promise.all(loaders.map((load) => load()))) register(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/**
 * Runs the call `argv` (node, script, ...args) with the verbs of `commands` and resolves with its
 * exit code. Never rejects: a failure is one `error: ...` line on stderr and code 1 (Commander
 * prints its own usage errors and help).
 */
export async function runCli(argv: readonly string[], commands: CommandTable): Promise<number> {
  try {
    await (await buildProgram(argv, commands)).parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    // Commander has already printed its own one-line usage error (or the help text).
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 1;
    process.stderr.write(`error: ${formatError(err)}\n`);
    return 1;
  }
}
