/**
 * The `sutra-grid` entry point (bin/sutra-grid.js imports the compiled form). The only module that
 * exits the process: commands throw, and every error becomes one line on stderr and exit code 1.
 * The exit waits for stdout and stderr to drain, so output piped into another program arrives
 * whole, and a reader that went away never crashes a command (std-streams.ts).
 */
import { Command, CommanderError } from 'commander';
import { registerAgentCommand } from './commands/agent.js';
import { registerApplyCommand } from './commands/apply.js';
import { registerCordonCommands } from './commands/cordon.js';
import { registerDrainCommand } from './commands/drain.js';
import { registerPlanCommand } from './commands/plan.js';
import { registerValidateCommand } from './commands/validate.js';
import { registerUpCommand } from './commands/up.js';
import { registerEventsCommand } from './commands/events.js';
import { registerListAgentsCommand } from './commands/list-agents.js';
import { registerListNodesCommand } from './commands/list-nodes.js';
import { registerMasterCommand } from './commands/master.js';
import { registerNodeStatusCommand } from './commands/node-status.js';
import { registerPromoteCommand } from './commands/promote.js';
import { registerRestartCommand } from './commands/restart.js';
import { registerSpawnCommand } from './commands/spawn.js';
import { registerStatusCommand } from './commands/status.js';
import { registerStopCommand } from './commands/stop.js';
import { registerStorageServerCommand } from './commands/storage-server.js';
import { registerSecurityCommands } from './commands/security.js';
import { formatError } from '../../errors/index.js';
import { DEFAULT_MASTER } from './client-flags.js';
import { drainStdio, exitProcess, guardStdio } from './std-streams.js';

/** Builds the program with every verb registered. */
function buildProgram(): Command {
  const program = new Command('sutra-grid')
    .description('Sutra Grid: a control plane for fleets of storage servers')
    // Daemons have their own --master/--token-file; global flags therefore go before the verb.
    .enablePositionalOptions()
    .exitOverride()
    .option('--master <addr>', `master HOST:PORT or http://HOST:PORT (default $SUTRA_GRID_MASTER, else ${DEFAULT_MASTER})`)
    .option('--token-file <file>', 'file holding the shared token (default: $SUTRA_GRID_TOKEN as the token value)')
    .option('--json', 'machine-readable output');
  registerMasterCommand(program);
  registerAgentCommand(program);
  registerStorageServerCommand(program);
  registerStatusCommand(program);
  registerListAgentsCommand(program);
  registerListNodesCommand(program);
  registerCordonCommands(program);
  registerDrainCommand(program);
  registerSpawnCommand(program);
  registerStopCommand(program);
  registerNodeStatusCommand(program);
  registerPromoteCommand(program);
  registerRestartCommand(program);
  registerValidateCommand(program);
  registerPlanCommand(program);
  registerApplyCommand(program);
  registerUpCommand(program);
  registerEventsCommand(program);
  registerSecurityCommands(program);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    // Commander has already printed its own one-line usage error (or the help text).
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 1;
    process.stderr.write(`error: ${formatError(err)}\n`);
    return 1;
  }
}

guardStdio();
const code = await main(process.argv);
await drainStdio();
// Exits rather than waiting for the event loop to empty: a command is done once its output is out,
// whatever handles a library may still hold.
exitProcess(code);
