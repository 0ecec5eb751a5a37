/**
 * DockerPlatform against a real Docker Engine and real containers of the locally built image:
 * start, exit events, stop, re-adoption and bad input, each leaving no stray container behind.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type Dockerode from 'dockerode';
import { DockerPlatform, type DockerPlatformOptions } from '../../runtime/agent/docker-platform.js';
import { nodeToken } from '../../runtime/agent/node-token.js';
import type { ExitInfo, NodeInstance, NodeLaunchSpec } from '../../runtime/agent/platform.js';
import { GridError } from '../../runtime/errors.js';
import {
  agentContainers,
  DOCKER_SOCKET,
  eventually,
  freePort,
  occupyPort,
  removeAgentContainers,
  requireEngine,
  requireImage,
  roundTrip,
  tempDataDir,
  uniqueAgentId,
  waitServing,
} from './helpers.js';

const TOKEN = 'docker-platform-test-token';
/** What bridge-mode nodes check: derived from the agent's token, never the token itself. */
const NODE_TOKEN = nodeToken(TOKEN);

let docker: Dockerode;
let image: string;
let data: { dir: string; cleanup: () => Promise<void> };
const agentIds: string[] = [];
const platforms: DockerPlatform[] = [];

beforeAll(async () => {
  docker = await requireEngine();
  image = await requireImage();
  data = await tempDataDir();
}, 120_000);

afterEach(async () => {
  for (const p of platforms.splice(0)) await p.close();
  await removeAgentContainers(docker, agentIds.splice(0));
});

afterAll(async () => {
  await data?.cleanup();
});

async function newPlatform(overrides: Partial<DockerPlatformOptions> = {}, agentId = uniqueAgentId('dp')): Promise<DockerPlatform> {
  if (!agentIds.includes(agentId)) agentIds.push(agentId);
  const platform = await DockerPlatform.create({
    socketPath: DOCKER_SOCKET,
    image,
    agentId,
    grid: 'test-grid',
    dataDir: data.dir,
    network: 'bridge',
    token: TOKEN,
    ...overrides,
  });
  platforms.push(platform);
  return platform;
}

async function specFor(nodeId: string, overrides: Partial<NodeLaunchSpec> = {}): Promise<NodeLaunchSpec> {
  return {
    nodeId,
    port: await freePort(),
    memoryMb: 128,
    storagePath: join(data.dir, nodeId),
    cluster: 'c1',
    role: 'storage',
    generation: 1,
    ...overrides,
  };
}

function exitRecorder(platform: DockerPlatform): Array<{ nodeId: string; instance: NodeInstance; exit: ExitInfo; at: number }> {
  const exits: Array<{ nodeId: string; instance: NodeInstance; exit: ExitInfo; at: number }> = [];
  platform.onExit((nodeId, instance, exit) => exits.push({ nodeId, instance, exit, at: Date.now() }));
  return exits;
}

async function expectGridError(p: Promise<unknown>, code: string, field?: string): Promise<GridError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GridError);
  const ge = err as GridError;
  expect(ge.code).toBe(code);
  if (field !== undefined) expect(ge.context.field).toBe(field);
  return ge;
}

describe('DockerPlatform', () => {
  it('starts a labelled, hardened container that answers storage calls on its published port', async () => {
    const platform = await newPlatform();
    const spec = await specFor('n1');
    const instance = await platform.start(spec);

    expect(instance.pid).toBeGreaterThan(0);
    expect(instance.containerId).toMatch(/^[0-9a-f]{64}$/);
    await waitServing(spec.port);
    expect(await roundTrip(spec.port, NODE_TOKEN, 'alpha')).toBe('content of alpha');

    const info = await docker.getContainer(instance.containerId!).inspect();
    const agentId = agentIds[0]!;
    expect(info.Name).toBe(`/sutra-${agentId}-n1`);
    expect(info.Config.Labels).toMatchObject({
      'sutra.grid': 'test-grid',
      'sutra.agent': agentId,
      'sutra.node': 'n1',
      'sutra.cluster': 'c1',
    });
    expect(JSON.parse(info.Config.Labels['sutra.spec']!)).toEqual(spec);
    const host = info.HostConfig;
    expect(host.Memory).toBe(128 * 1024 * 1024);
    expect(host.Privileged).toBe(false);
    expect(host.CapAdd ?? []).toEqual([]);
    expect(host.CapDrop).toEqual(['ALL']);
    expect(host.ReadonlyRootfs).toBe(true);
    expect(host.RestartPolicy?.Name).toBe('no');
    expect(host.PortBindings?.[`${spec.port}/tcp`]).toEqual([{ HostIp: '127.0.0.1', HostPort: String(spec.port) }]);
    expect(host.Mounts).toContainEqual(expect.objectContaining({ Type: 'bind', Source: spec.storagePath, Target: '/data' }));
    // The concept went through the bind mount onto the agent's data dir.
    expect(info.State.Pid).toBe(instance.pid);
  });

  it('reports a killed container process at once from the Engine events, with the signal', async () => {
    const platform = await newPlatform();
    const exits = exitRecorder(platform);
    const spec = await specFor('n-kill');
    const instance = await platform.start(spec);
    await waitServing(spec.port);

    const killedAt = Date.now();
    process.kill(instance.pid, 'SIGKILL');
    await eventually(() => exits.length === 1, 5_000, 'the exit event');

    expect(exits[0]!.nodeId).toBe('n-kill');
    expect(exits[0]!.instance.containerId).toBe(instance.containerId);
    expect(exits[0]!.exit).toEqual({ exitCode: null, signal: 'SIGKILL' });
    // Event-driven: well under any polling interval the supervisor would use.
    expect(exits[0]!.at - killedAt).toBeLessThan(1_500);

    // The supervisor restarts by starting the same spec: the dead container is replaced, not duplicated.
    const again = await platform.start(spec);
    expect(again.containerId).not.toBe(instance.containerId);
    await waitServing(spec.port);
    // The dead one was renamed out of the way at once and is removed in the background.
    await eventually(async () => (await agentContainers(docker, agentIds[0]!)).length === 1, 5_000, 'the dead container to be removed');
    const all = await agentContainers(docker, agentIds[0]!);
    expect(all.map((c) => c.Id)).toEqual([again.containerId]);
  });

  it('stops with a grace period: SIGTERM, exit reported, container removed', async () => {
    const platform = await newPlatform();
    const exits = exitRecorder(platform);
    const spec = await specFor('n-stop');
    await platform.start(spec);
    await waitServing(spec.port);

    await platform.stop('n-stop', 5_000);

    // The storage-server drains on SIGTERM and exits 0, well inside the grace period.
    expect(exits.map((e) => [e.nodeId, e.exit])).toEqual([['n-stop', { exitCode: 0, signal: null }]]);
    expect(await agentContainers(docker, agentIds[0]!)).toEqual([]);
    // Stopping again is a no-op, not an error.
    await platform.stop('n-stop', 1_000);
  });

  it('after an agent restart re-adopts running containers and removes the ones it no longer owns', async () => {
    const agentId = uniqueAgentId('adopt');
    const first = await newPlatform({}, agentId);
    const keep = await specFor('keep');
    const crashed = await specFor('crashed');
    const kept = await first.start(keep);
    const dead = await first.start(crashed);
    await waitServing(keep.port);
    await first.close();
    await docker.getContainer(dead.containerId!).kill();
    // A container with this agent's labels but a spec label it cannot trust: not its own.
    const stray = await docker.createContainer({
      Image: image,
      name: `sutra-${agentId}-stray`,
      Labels: { 'sutra.agent': agentId, 'sutra.grid': 'test-grid', 'sutra.node': 'stray', 'sutra.spec': '{not json' },
      Entrypoint: ['node'],
      Cmd: ['-e', 'setInterval(() => {}, 1000)'],
    });
    await stray.start();
    await eventually(async () => !(await docker.getContainer(dead.containerId!).inspect()).State.Running, 5_000, 'the crashed container to stop');

    // WHEN a new agent process with the same id starts
    const adoptStartedMs = Date.now();
    const second = await newPlatform({}, agentId);
    const exits = exitRecorder(second);
    const adopted = await second.adopt();

    // THEN it takes over the running node as it was launched, and nothing else survives
    // (with the container's own start time, from before the new agent existed)
    expect(adopted).toEqual([{ spec: keep, instance: { pid: kept.pid, containerId: kept.containerId }, startedAtMs: expect.any(Number) }]);
    expect(adopted[0]!.startedAtMs).toBeLessThan(adoptStartedMs);
    const left = await agentContainers(docker, agentId);
    expect(left.map((c) => c.Id)).toEqual([kept.containerId]);
    expect(await roundTrip(keep.port, NODE_TOKEN, 'still-here')).toBe('content of still-here');

    // AND it watches the adopted container like one it started
    process.kill(kept.pid, 'SIGKILL');
    await eventually(() => exits.length === 1, 5_000, 'the adopted node exit');
    expect(exits[0]!.nodeId).toBe('keep');
  });

  it('by default runs tokenless nodes on host networking, bound to loopback, like process nodes', async () => {
    const platform = await newPlatform({ token: undefined, network: undefined });
    const spec = await specFor('n-host');
    const instance = await platform.start(spec);
    await waitServing(spec.port);
    expect(await roundTrip(spec.port, undefined, 'beta')).toBe('content of beta');
    const info = await docker.getContainer(instance.containerId!).inspect();
    expect(info.HostConfig.NetworkMode).toBe('host');
    expect(info.Config.Cmd).toContain('127.0.0.1');
  });

  describe('bad input: a clear error and no container left behind', () => {
    it('memory below the minimum -> INVALID_ARGUMENT naming memory_mb', async () => {
      const platform = await newPlatform();
      const err = await expectGridError(platform.start(await specFor('n-mem', { memoryMb: 32 })), 'INVALID_ARGUMENT', 'memory_mb');
      expect(err.message).toMatch(/memory_mb: 32 MB is below the 64 MB minimum/);
      expect(await agentContainers(docker, agentIds[0]!)).toEqual([]);
    });

    it('unknown image -> SPAWN_FAILED naming [docker].image', async () => {
      const platform = await newPlatform({ image: 'sutra-grid:no-such-tag' });
      const err = await expectGridError(platform.start(await specFor('n-img')), 'SPAWN_FAILED', '[docker].image');
      expect(err.message).toContain('sutra-grid:no-such-tag');
      expect(await agentContainers(docker, agentIds[0]!)).toEqual([]);
    });

    it('port in use on the host -> PORT_IN_USE naming port', async () => {
      const platform = await newPlatform();
      const held = await occupyPort();
      try {
        await expectGridError(platform.start(await specFor('n-port', { port: held.port })), 'PORT_IN_USE', 'port');
      } finally {
        held.server.close();
      }
      expect(await agentContainers(docker, agentIds[0]!)).toEqual([]);
    });

    it('an unreachable Engine -> CONFIG_INVALID naming [docker].socket_path', async () => {
      await expectGridError(newPlatform({ socketPath: join(data.dir, 'no.sock') }), 'CONFIG_INVALID', '[docker].socket_path');
    });

    it('bridge networking without a token -> CONFIG_INVALID naming [docker].network', async () => {
      await expectGridError(newPlatform({ token: undefined, network: 'bridge' }), 'CONFIG_INVALID', '[docker].network');
    });
  });
});
