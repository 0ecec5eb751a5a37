/**
 * Picks and builds the agent's NodePlatform from its compiled options (`[agent].platform`). The
 * one place the agent learns which platforms exist; everything above it sees only NodePlatform.
 */
import type { Logger } from '../common/logger.js';
// Not the storage barrel: it would load the whole storage-server into every agent.
import { storageServerEntry } from '../storage/entry.js';
import type { CompiledAgentOptions } from './agent-config.js';
import type { NodePlatform } from './platform.js';
import { ProcessPlatform } from './process-platform.js';

/**
 * The platform named by `opts.platform`. For `docker` this reaches the Engine at
 * `[docker].socket_path` and subscribes to its events, so a missing Engine or a bad `[docker]`
 * setting fails the agent's start-up with a ConfigError naming the key.
 */
export async function createPlatform(opts: CompiledAgentOptions, logger: Logger): Promise<NodePlatform> {
  if (opts.platform === 'docker') {
    // Loaded only for a docker agent: dockerode and its HTTP stack are most of an idle agent's heap.
    const { DockerPlatform } = await import('./docker-platform.js');
    return DockerPlatform.create({
      socketPath: opts.docker.socketPath,
      image: opts.docker.image,
      network: opts.docker.network,
      user: opts.docker.user,
      agentId: opts.agentId,
      dataDir: opts.storage.dataPath,
      token: opts.token,
      tls: opts.tls !== undefined,
      logger: logger.child({ component: 'docker-platform' }),
    });
  }
  return new ProcessPlatform({
    dataPath: opts.storage.dataPath,
    binaryPath: opts.storage.binaryPath,
    bundledEntry: storageServerEntry(),
    logger: logger.child({ component: 'process-platform' }),
  });
}
