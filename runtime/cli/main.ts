/**
 * The `sutra-grid` entry point of the full CLI (bin/sutra-grid.js imports the bundled or compiled
 * form; the light client verbs run from client-main.ts and the spec verbs from spec-main.ts when
 * the bundle is built). One of the modules that exit the process: commands throw, and every error
 * becomes one line on stderr and exit code 1 (program.ts). The exit waits for stdout and stderr to
 * drain, so output piped into another program arrives whole, and a reader that went away never
 * crashes a command (std-streams.ts).
 */
import { shortCircuitIPv6Check } from '../common/ipv6-check.js';
import { CLIENT_COMMANDS } from './client-commands.js';
import { runCli, type CommandTable, type Register } from './program.js';
import { SPEC_COMMANDS } from './spec-commands.js';
import { drainStdio, exitProcess, guardStdio } from './std-streams.js';

const client = CLIENT_COMMANDS;
const spec = SPEC_COMMANDS;
const security = async (): Promise<Register> => (await import('./commands/security.js')).registerSecurityCommands;

/**
 * Every verb and how to load the module that registers it; a new command is one line here (a
 * client verb: in client-commands.ts and verbs.ts; a spec verb: in spec-commands.ts and verbs.ts).
 * A call loads only its own verb's module (a CLI call is mostly start-up: `status` must not compile
 * the spec parser or the agent); help and unknown verbs load them all. The order is the help's order.
 */
const COMMANDS: CommandTable = {
  master: async () => (await import('./commands/master.js')).registerMasterCommand,
  agent: async () => (await import('./commands/agent.js')).registerAgentCommand,
  'storage-server': async () => (await import('./commands/storage-server.js')).registerStorageServerCommand,
  status: client.status,
  'list-agents': client['list-agents'],
  'list-nodes': client['list-nodes'],
  cordon: client.cordon,
  uncordon: client.uncordon,
  drain: client.drain,
  spawn: client.spawn,
  stop: client.stop,
  'node-status': client['node-status'],
  promote: client.promote,
  restart: client.restart,
  validate: spec.validate,
  plan: spec.plan,
  apply: spec.apply,
  up: async () => (await import('./commands/up.js')).registerUpCommand,
  events: client.events,
  token: security,
  cert: security,
  join: security,
};

guardStdio();
// Before any gRPC call or bind: grpc-js' first IPv6 test of an address compiles Node's regex (ipv6-check.ts).
shortCircuitIPv6Check();
const code = await runCli(process.argv, COMMANDS);
await drainStdio();
// Exits rather than waiting for the event loop to empty: a command is done once its output is out,
// whatever handles a library may still hold.
exitProcess(code);
