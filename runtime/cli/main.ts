/**
 * The `sutra-grid` entry point (bin/sutra-grid.js imports the bundled or compiled form). The only
 * module that exits the process: commands throw, and every error becomes one line on stderr and exit
 * code 1. The exit waits for stdout and stderr to drain, so output piped into another program
 * arrives whole, and a reader that went away never crashes a command (std-streams.ts).
 */
import { Command, CommanderError } from 'commander';
import { formatError } from '../../errors/index.js';
import { DEFAULT_MASTER_ADDRESS as DEFAULT_MASTER } from '../../client/transport.js';
import { shortCircuitIPv6Check } from '../common/ipv6-check.js';
import { drainStdio, exitProcess, guardStdio } from './std-streams.js';

type Register = (program: Command) => void;

const cordon = async (): Promise<Register> => (await import('./commands/cordon.js')).registerCordonCommands;
const security = async (): Promise<Register> => (await import('./commands/security.js')).registerSecurityCommands;

/**
 * Every verb and how to load the module that registers it; a new command is one line here. A call
 * loads only its own verb's module (a CLI call is mostly start-up: `status` must not compile the
 * spec parser or the agent); help and unknown verbs load them all. The order is the help's order.
 */
const COMMANDS: Readonly<Record<string, () => Promise<Register>>> = {
  master: async () => (await import('./commands/master.js')).registerMasterCommand,
  agent: async () => (await import('./commands/agent.js')).registerAgentCommand,
  'storage-server': async () => (await import('./commands/storage-server.js')).registerStorageServerCommand,
  status: async () => (await import('./commands/status.js')).registerStatusCommand,
  'list-agents': async () => (await import('./commands/list-agents.js')).registerListAgentsCommand,
  'list-nodes': async () => (await import('./commands/list-nodes.js')).registerListNodesCommand,
  cordon,
  uncordon: cordon,
  drain: async () => (await import('./commands/drain.js')).registerDrainCommand,
  spawn: async () => (await import('./commands/spawn.js')).registerSpawnCommand,
  stop: async () => (await import('./commands/stop.js')).registerStopCommand,
  'node-status': async () => (await import('./commands/node-status.js')).registerNodeStatusCommand,
  promote: async () => (await import('./commands/promote.js')).registerPromoteCommand,
  restart: async () => (await import('./commands/restart.js')).registerRestartCommand,
  validate: async () => (await import('./commands/validate.js')).registerValidateCommand,
  plan: async () => (await import('./commands/plan.js')).registerPlanCommand,
  apply: async () => (await import('./commands/apply.js')).registerApplyCommand,
  up: async () => (await import('./commands/up.js')).registerUpCommand,
  events: async () => (await import('./commands/events.js')).registerEventsCommand,
  token: security,
  cert: security,
  join: security,
};

/** Global options that take a value (the verb is the first word after them). */
const GLOBAL_VALUE_OPTIONS = new Set(['--master', '--token-file']);

/** The verb of `argv` (node, script, ...args), or undefined when there is none before a flag we do not know. */
export function verbOf(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!;
    if (GLOBAL_VALUE_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/** Builds the program with the verb of `argv` registered, or every verb when it names none we know. */
async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command('sutra-grid')
    .description('Sutra Grid: a control plane for fleets of storage servers')
    // Daemons have their own --master/--token-file; global flags therefore go before the verb.
    .enablePositionalOptions()
    .exitOverride()
    .option('--master <addr>', `master HOST:PORT or http://HOST:PORT (default $SUTRA_GRID_MASTER, else ${DEFAULT_MASTER})`)
    .option('--token-file <file>', 'file holding the shared token (default: $SUTRA_GRID_TOKEN as the token value)')
    .option('--json', 'machine-readable output');
  const verb = verbOf(argv);
  const own = verb !== undefined && Object.hasOwn(COMMANDS, verb) ? COMMANDS[verb] : undefined;
  const loaders = own !== undefined ? [own] : [...new Set(Object.values(COMMANDS))];
  for (const register of await Promise.all(loaders.map((load) => load()))) register(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

async function main(argv: readonly string[]): Promise<number> {
  try {
    await (await buildProgram(argv)).parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    // Commander has already printed its own one-line usage error (or the help text).
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 1;
    process.stderr.write(`error: ${formatError(err)}\n`);
    return 1;
  }
}

guardStdio();
// Before any gRPC call or bind: grpc-js' first IPv6 test of an address compiles Node's regex (ipv6-check.ts).
shortCircuitIPv6Check();
const code = await main(process.argv);
await drainStdio();
// Exits rather than waiting for the event loop to empty: a command is done once its output is out,
// whatever handles a library may still hold.
exitProcess(code);
