import type { ClientVerb } from './verbs.js';
import type { Register } from './program.js';

const cordon = async (): Promise<Register> => (await import('./commands/cordon.js')).registerCordonCommands;

/**
 * How to load the module that registers each client verb (verbs.ts). Shared by both builds: the
 * full CLI (main.ts) lists them among every verb; the client bundle (client-main.ts) has only these,
 * so it holds none of the other verbs' code.
 */
export const CLIENT_COMMANDS: Readonly<Record<ClientVerb, () => Promise<Register>>> = {
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
  events: async () => (await import('./commands/events.js')).registerEventsCommand,
};
