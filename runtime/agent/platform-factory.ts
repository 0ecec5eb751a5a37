/**
 * Picks and builds the agent's NodePlatform from its compiled options (`[agent].platform`). The
 * one place the agent learns which platforms exist; everything above it sees only NodePlatform.
 */
import type { Logger } from '../common/logger.js';
import { STORAGE_SERVER_ENTRY } from '../storage/index.js';
import type { CompiledAgentOptions } from './agent-config.js';
import { DockerPlatform } from './docker-platform.js';
import type { NodePlatform } from './platform.js';
import { ProcessPlatform } from './process-platform.js';

/**
 * The platform named by `opts.platform`. For `docker` this reaches the Engine at
 * `[docker].socket_path` and subscribes to its events, so a missing Engine or a bad `[docker]`
 * setting fails the agent's start-up with a ConfigError naming the key.
 */
export async function createPlatform(opts: CompiledAgentOptions, logger: Logger): Promise<NodePlatform> {
  if (opts.platform === 'docker') {
    return DockerPlatform.create({
      socketPath: opts.docker.socketPath,
      image: opts.docker.image,
      network: opts.docker.network,
      user: opts.docker.user,
      agentId: opts.agentId,
      dataDir: opts.storage.dataPath,
      token: opts.token,
      logger: logger.child({ component: 'docker-platform' }),
    });
  }
  return new ProcessPlatform({
    dataPath: opts.storage.dataPath,
    binaryPath: opts.storage.binaryPath,
    bundledEntry: STORAGE_SERVER_ENTRY,
    logger: logger.child({ component: 'process-platform' }),
  });
}
