import type { AgentCommandFlags } from '../cli/commands/agent.js';

/** Runs the agent daemon until a signal (work in progress). */
export async function runAgentCommand(flags: AgentCommandFlags): Promise<void> {
  void flags;
  throw new Error('agent: not implemented yet');
}
