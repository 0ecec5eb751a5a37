import type { Command } from 'commander';
import type { AgentFlags } from '../../agent/agent-config.js';

/**
 * `sutra-grid agent [--config FILE] --id ID --master ADDR --listen HOST:PORT --data-dir DIR
 * [--max-nodes N --heartbeat-interval 5s]`. Runs until SIGINT/SIGTERM, then stops its nodes.
 */
export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description('run an agent: registers with the master and runs storage nodes on this host')
    .option('--config <file>', 'agent-config.toml (flags override its keys)')
    .option('--id <id>', 'agent id ([agent].agent_id)')
    .option('--master <addr>', 'master HOST:PORT ([agent].master_endpoint; default $SUTRA_GRID_MASTER)')
    .option('--listen <host:port>', 'where the agent serves GridAgent ([agent].listen_host + agent_port)')
    .option('--data-dir <dir>', 'node data root ([storage].data_path)')
    .option('--max-nodes <n>', 'capacity ([agent].max_storage_nodes)')
    .option('--heartbeat-interval <duration>', 'e.g. 5s, 500ms ([monitoring].heartbeat_interval_secs)')
    .option('--platform <name>', 'process or docker ([agent].platform)')
    .option('--storage-binary <path>', 'storage server executable ([storage].binary_path; default the bundled one)')
    .option('--token-file <file>', 'shared token (default $SUTRA_GRID_TOKEN)')
    .option('--join <token>', 'join the grid with this join token (sutra-grid token create --role agent); the certificate is kept in <data-dir>/.agent/tls')
    .option('--join-file <file>', 'like --join, the token read from this file (a mounted Secret); skipped when <data-dir>/.agent/tls already holds a credential, so a restarted agent does not spend a used token')
    .option('--ca-hash <sha256:hex>', 'the grid CA hash printed by `token create`, pinned for --join')
    .action(async (flags: AgentFlags) => {
      const { runAgentCommand } = await import('../../agent/run-agent.js');
      try {
        await runAgentCommand(flags);
      } catch (err) {
        process.stderr.write(`agent: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
