import { resolveToken, TlsSource } from '../../client/transport.js';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { agentTlsDir, CertificateRenewal, hasAgentCredential, joinAsAgent, loadAgentCredential } from './agent-tls.js';
import { createLogger } from '../common/logger.js';
import { runUntilSignal } from '../cli/run-until-signal.js';
import { compileAgentOptions, loadAgentConfig, type AgentFlags } from './agent-config.js';
import { Agent } from './agent.js';
import { createPlatform } from './platform-factory.js';

/** The line printed on stdout once the agent serves (tests and scripts wait for it). */
export function agentListeningLine(agentId: string, address: string): string {
  return `agent ${agentId} listening on ${address}`;
}

/**
 * The token of `--join-file`, or undefined when none is named or the agent already holds a
 * credential: an orchestrator restarts the agent with the same arguments, and a join token works once.
 */
function joinTokenFromFile(file: string | undefined, dataPath: string): string | undefined {
  if (file === undefined || hasAgentCredential(dataPath)) return undefined;
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError('--join-file', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (token === '') throw new ConfigError('--join-file', `${file} is empty`);
  return token;
}

/**
 * Entry of `sutra-grid agent`: config + flags -> Agent; prints the listening line; runs until
 * SIGINT/SIGTERM, which stops every node. Throws on bad config (the caller prints one line, exit 1).
 */
export async function runAgentCommand(flags: AgentFlags): Promise<void> {
  const file = flags.config !== undefined ? loadAgentConfig(flags.config) : {};
  const tokenFile = flags.tokenFile ?? (file['agent']?.['token_file'] as string | undefined);
  const compiled = compileAgentOptions(file, flags, resolveToken({ file: tokenFile }));
  const logger = createLogger('sutra-grid-agent').child({ agentId: compiled.agentId });
  const dataPath = compiled.storage.dataPath;
  const joinToken = flags.join ?? joinTokenFromFile(flags.joinFile, dataPath);
  if (joinToken !== undefined) {
    await joinAsAgent({ master: compiled.masterEndpoint, token: joinToken, caHash: flags.caHash, agentId: compiled.agentId, dataPath });
    logger.info(`joined the grid at ${compiled.masterEndpoint}; credential kept in ${agentTlsDir(dataPath)}`);
  }
  const material = loadAgentCredential(dataPath);
  const tls = material === undefined ? undefined : new TlsSource(material);
  const opts = { ...compiled, tls };
  const renewal = tls === undefined ? undefined : new CertificateRenewal(tls, compiled.masterEndpoint, dataPath, logger);
  const platform = await createPlatform(opts, logger);
  const agent = new Agent(opts, platform, logger);
  await runUntilSignal(agent, async () => {
    const address = await agent.start();
    logger.info({ address, master: opts.masterEndpoint, platform: platform.name, dataPath: opts.storage.dataPath }, 'agent started');
    renewal?.start();
    process.stdout.write(`${agentListeningLine(opts.agentId, address)}\n`);
  });
  renewal?.stop();
}
