import type { Command } from 'commander';
import type { AgentFlags } from '../../agent/agent-config.js';
import { AGENT_FLAGS } from '../../agent/agent-flags.js';

/**
 * `sutra-grid agent [--config FILE] --id ID --master ADDR --listen HOST:PORT --data-dir DIR
 * [--max-nodes N --heartbeat-interval 5s]`. Runs until SIGINT/SIGTERM, then stops its nodes.
 * The flags are the agent's own table (runtime/agent/agent-flags.ts): bin/sutra-grid.js starts the
 * bundled agent without the CLI, and this command serves `--help` and the unbundled build.
 */
export function registerAgentCommand(program: Command): void {
  const cmd = program.command('agent').description('run an agent: registers with the master and runs storage nodes on this host');
  for (const f of AGENT_FLAGS) cmd.option(`${f.name} ${f.value}`, f.description);
  cmd.action(async (flags: AgentFlags) => {
    const { runAgentCommand } = await import('../../agent/run-agent.js');
    try {
      await runAgentCommand(flags);
    } catch (err) {
      process.stderr.write(`agent: ${(err as Error).message}\n`);
      process.exitCode = 1;
    }
  });
}
