/**
 * `[agent].platform = "docker"` in agent-config.toml selects the Docker platform, configured from
 * the `[docker]` table; bad `[docker]` settings are refused with the key named.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Dockerode from 'dockerode';
import { checkAgentConfig, compileAgentOptions, loadAgentConfig } from '../../runtime/agent/agent-config.js';
import { createPlatform } from '../../runtime/agent/platform-factory.js';
import { silentLogger } from '../../runtime/common/logger.js';
import { GridError } from '../../runtime/errors.js';
import { agentContainers, DOCKER_SOCKET, freePort, removeAgentContainers, requireEngine, requireImage, tempDataDir, uniqueAgentId, waitServing } from './helpers.js';

let docker: Dockerode;
let image: string;
let data: { dir: string; cleanup: () => Promise<void> };
const agentIds: string[] = [];

beforeAll(async () => {
  docker = await requireEngine();
  image = await requireImage();
  data = await tempDataDir();
}, 120_000);

afterAll(async () => {
  await removeAgentContainers(docker, agentIds);
  await data?.cleanup();
});

function options(dockerTable: Record<string, unknown>, agentId = uniqueAgentId('factory'), token?: string) {
  agentIds.push(agentId);
  const file = checkAgentConfig({
    agent: { agent_id: agentId, platform: 'docker' },
    storage: { data_path: data.dir },
    docker: dockerTable,
  });
  return compileAgentOptions(file, {}, token, {});
}

async function refusal(p: Promise<unknown> | (() => unknown)): Promise<GridError> {
  const err = await (typeof p === 'function' ? Promise.resolve().then(p) : p).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GridError);
  return err as GridError;
}

describe('createPlatform from agent-config.toml', () => {
  it('platform = "docker" runs nodes as containers of [docker].image over [docker].socket_path', async () => {
    const opts = options({ socket_path: DOCKER_SOCKET, image });
    const platform = await createPlatform(opts, silentLogger);
    try {
      expect(platform.name).toBe('docker');
      const port = await freePort();
      const instance = await platform.start({ nodeId: 'f1', port, memoryMb: 96, storagePath: `${data.dir}/nodes/f1`, cluster: 'c', role: 'storage', generation: 1 });
      await waitServing(port);
      const [c] = await agentContainers(docker, opts.agentId);
      expect(c?.Id).toBe(instance.containerId);
      expect(c?.Image).toBe(image);
      // Default network: host, the node on loopback like a process node.
      expect(c?.HostConfig.NetworkMode).toBe('host');
      await platform.stop('f1', 2_000);
      expect(await agentContainers(docker, opts.agentId)).toEqual([]);
    } finally {
      await platform.close();
    }
  });

  it('[docker].network = "bridge" with the agent token publishes ports instead', async () => {
    const opts = options({ socket_path: DOCKER_SOCKET, image, network: 'bridge' }, undefined, 'factory-token');
    expect(opts.docker.network).toBe('bridge');
    const platform = await createPlatform(opts, silentLogger);
    await platform.close();
    expect(platform.name).toBe('docker');
  });

  it('the shipped example config selects the docker platform', () => {
    const opts = compileAgentOptions(loadAgentConfig('examples/docker/agent-config.toml'), {}, undefined, {});
    expect(opts.platform).toBe('docker');
    expect(opts.docker).toEqual({ socketPath: '/var/run/docker.sock', image: 'sutra-grid:0.1.0', network: 'host' });
  });

  it('refuses a bad [docker] table with the key named', async () => {
    const badNetwork = await refusal(() => options({ network: 'overlay' }));
    expect(badNetwork.code).toBe('CONFIG_INVALID');
    expect(badNetwork.message).toContain('[docker].network');

    const unknownKey = await refusal(() => options({ sokcet: '/x' }));
    expect(unknownKey.message).toContain('[docker].sokcet');

    const noEngine = await refusal(createPlatform(options({ socket_path: `${data.dir}/absent.sock`, image }), silentLogger));
    expect(noEngine.code).toBe('CONFIG_INVALID');
    expect(noEngine.context.field).toBe('[docker].socket_path');

    const bridgeWithoutToken = await refusal(createPlatform(options({ socket_path: DOCKER_SOCKET, image, network: 'bridge' }), silentLogger));
    expect(bridgeWithoutToken.context.field).toBe('[docker].network');
  });
});
