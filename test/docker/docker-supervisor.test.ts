/**
 * The agent's NodeSupervisor on the Docker platform, against a real Engine: the same behaviour as
 * on the process platform (running only once healthy, crash restarted with events, re-adoption
 * after an agent restart, stop, capacity, bad input), with containers instead of processes.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type Dockerode from 'dockerode';
import { silentLogger } from '../../runtime/common/logger.js';
import { DockerPlatform, type DockerPlatformOptions } from '../../runtime/agent/docker-platform.js';
import { NodeSupervisor } from '../../runtime/agent/node-supervisor.js';
import { NO_REPLICATION, type NodeEvent, type SpawnRequest } from '../../runtime/common/grid-types.js';
import type { SupervisorOptions } from '../../runtime/agent/node-types.js';
import { GridError } from '../../runtime/errors.js';
import {
  agentContainers,
  DOCKER_SOCKET,
  eventually,
  freePort,
  healthOf,
  occupyPort,
  removeAgentContainers,
  requireEngine,
  requireImage,
  roundTrip,
  tempDataDir,
  uniqueAgentId,
} from './helpers.js';

let docker: Dockerode;
let image: string;
let data: { dir: string; cleanup: () => Promise<void> };
const agentIds: string[] = [];
const supervisors: NodeSupervisor[] = [];

beforeAll(async () => {
  docker = await requireEngine();
  image = await requireImage();
  data = await tempDataDir();
}, 120_000);

afterEach(async () => {
  for (const s of supervisors.splice(0)) await s.close();
  await removeAgentContainers(docker, agentIds.splice(0));
});

afterAll(async () => {
  await data?.cleanup();
});

interface Agent {
  readonly supervisor: NodeSupervisor;
  readonly events: NodeEvent[];
  readonly agentId: string;
}

/** One "agent process": a Docker platform and the supervisor on top, as the agent daemon wires them. */
async function startAgent(agentId: string, overrides: { platform?: Partial<DockerPlatformOptions>; supervisor?: Partial<SupervisorOptions> } = {}): Promise<Agent> {
  if (!agentIds.includes(agentId)) agentIds.push(agentId);
  const platform = await DockerPlatform.create({ socketPath: DOCKER_SOCKET, image, agentId, dataDir: data.dir, ...overrides.platform });
  const events: NodeEvent[] = [];
  const supervisor = new NodeSupervisor(
    platform,
    {
      agentId,
      dataPath: data.dir,
      defaultMemoryMb: 128,
      portRangeStart: 20000,
      portRangeSize: 100,
      maxNodes: 4,
      maxMemoryMb: 0,
      startupProbeIntervalMs: 10,
      startTimeoutMs: 20_000,
      healthCheckIntervalMs: 1_000,
      stopGraceMs: 5_000,
      restart: { enabled: true, maxRestarts: 3, windowMs: 60_000, backoffMs: 100, backoffMaxMs: 400 },
      ...overrides.supervisor,
    },
    silentLogger,
    (e) => events.push(e),
  );
  supervisors.push(supervisor);
  return { supervisor, events, agentId };
}

async function request(nodeId: string, overrides: Partial<SpawnRequest> = {}): Promise<SpawnRequest> {
  return { nodeId, port: await freePort(), memoryMb: 128, storagePath: '', cluster: 'c1', role: 'storage', generation: 1, ...NO_REPLICATION, ...overrides };
}

async function spawnError(agent: Agent, req: SpawnRequest): Promise<GridError> {
  const err = await agent.supervisor.spawn(req).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GridError);
  return err as GridError;
}

describe('NodeSupervisor on the Docker platform', () => {
  it('spawn -> running once healthy, answering storage calls, its data under the agent data dir', async () => {
    const agent = await startAgent(uniqueAgentId('sup'));
    const req = await request('n1');
    const view = await agent.supervisor.spawn(req);

    expect(view.status).toBe('running');
    expect(view.pid).toBeGreaterThan(0);
    expect(view.containerId).toMatch(/^[0-9a-f]{64}$/);
    expect(view.storagePath).toBe(join(data.dir, 'nodes', 'n1'));
    expect(await healthOf(req.port)).toBe('SERVING');
    expect(await roundTrip(req.port, undefined, 'gamma')).toBe('content of gamma');
    expect(agent.events.map((e) => e.type)).toEqual(['SpawnSucceeded']);
  });

  it("kill of the container's process -> NodeCrashed, restarted with a new pid, one container", async () => {
    const agent = await startAgent(uniqueAgentId('sup'));
    const req = await request('n-crash');
    const before = await agent.supervisor.spawn(req);
    await roundTrip(req.port, undefined, 'survives-crash');

    process.kill(before.pid, 'SIGKILL');
    await eventually(() => agent.events.some((e) => e.type === 'NodeRestarted'), 20_000, 'NodeRestarted');

    const after = agent.supervisor.get('n-crash');
    expect(after.status).toBe('running');
    expect(after.pid).not.toBe(before.pid);
    expect(after.containerId).not.toBe(before.containerId);
    expect(after.restarts).toBe(1);
    expect(after.lastExit).toBe('signal SIGKILL');
    const crashed = agent.events.find((e) => e.type === 'NodeCrashed');
    expect(crashed?.payload).toEqual({ signal: 'SIGKILL' });
    // The storage volume outlives the container: the restarted node still has the data.
    expect(await roundTrip(req.port, undefined, 'survives-crash')).toBe('content of survives-crash');
    await eventually(async () => (await agentContainers(docker, agent.agentId)).length === 1, 5_000, 'the dead container to be removed');
    const containers = await agentContainers(docker, agent.agentId);
    expect(containers.map((c) => c.Id)).toEqual([after.containerId]);
  });

  it('agent restarted -> its containers re-adopted, running, none duplicated', async () => {
    const agentId = uniqueAgentId('readopt');
    const first = await startAgent(agentId);
    const a = await first.supervisor.spawn(await request('a'));
    const b = await first.supervisor.spawn(await request('b'));
    // The agent process goes away without stopping its nodes.
    await first.supervisor.close();

    const second = await startAgent(agentId);
    const views = await second.supervisor.adoptExisting();

    expect(views.map((v) => [v.nodeId, v.status, v.pid, v.containerId, v.port]).sort()).toEqual(
      [
        ['a', 'running', a.pid, a.containerId, a.port],
        ['b', 'running', b.pid, b.containerId, b.port],
      ].sort(),
    );
    const containers = await agentContainers(docker, agentId);
    expect(containers.map((c) => c.Id).sort()).toEqual([a.containerId, b.containerId].sort());
    // Each keeps its container's own start time, not the adoption time (a stale copy must not look newer).
    const adoptedA = views.find((v) => v.nodeId === 'a')!;
    expect(adoptedA.startedAtMs).toBeLessThanOrEqual(a.startedAtMs);
    expect(adoptedA.startedAtMs).toBeGreaterThan(a.startedAtMs - 5000);
    // No spawn happened: adoption is silent, the nodes never restarted.
    expect(second.events).toEqual([]);
    // And the adopted node is supervised: a crash is restarted by the new agent.
    process.kill(a.pid, 'SIGKILL');
    await eventually(() => second.events.some((e) => e.type === 'NodeRestarted' && e.nodeId === 'a'), 20_000, 'restart of an adopted node');
    await eventually(async () => (await agentContainers(docker, agentId)).length === 2, 5_000, 'the dead container to be removed');
    expect((await agentContainers(docker, agentId)).map((c) => c.State)).toEqual(['running', 'running']);
  });

  it('stop -> graceful, StopSucceeded, container removed', async () => {
    const agent = await startAgent(uniqueAgentId('sup'));
    await agent.supervisor.spawn(await request('n-stop'));
    const view = await agent.supervisor.stop('n-stop');

    expect(view.status).toBe('stopped');
    expect(agent.events.map((e) => e.type)).toEqual(['SpawnSucceeded', 'StopSucceeded']);
    expect(await agentContainers(docker, agent.agentId)).toEqual([]);
    expect(agent.supervisor.list()).toEqual([]);
  });

  it('capacity is enforced before any container is created', async () => {
    const agent = await startAgent(uniqueAgentId('sup'), { supervisor: { maxNodes: 1 } });
    await agent.supervisor.spawn(await request('only'));
    const err = await spawnError(agent, await request('one-too-many'));
    expect(err.code).toBe('CAPACITY_EXCEEDED');
    expect((await agentContainers(docker, agent.agentId)).length).toBe(1);
  });

  describe('bad input: a clear error and no container left behind', () => {
    it('port in use -> PORT_IN_USE naming port', async () => {
      const agent = await startAgent(uniqueAgentId('sup'));
      const held = await occupyPort();
      try {
        const err = await spawnError(agent, await request('n-port', { port: held.port }));
        expect(err.code).toBe('PORT_IN_USE');
        expect(err.context.field).toBe('port');
      } finally {
        held.server.close();
      }
      expect(await agentContainers(docker, agent.agentId)).toEqual([]);
    });

    it('memory below the container minimum -> an error naming memory_mb', async () => {
      const agent = await startAgent(uniqueAgentId('sup'));
      const err = await spawnError(agent, await request('n-mem', { memoryMb: 16 }));
      expect(err.message).toContain('memory_mb');
      expect(err.message).toContain('64 MB minimum');
      expect(await agentContainers(docker, agent.agentId)).toEqual([]);
    });

    it('unknown image -> an error naming [docker].image and the image', async () => {
      const agent = await startAgent(uniqueAgentId('sup'), { platform: { image: 'sutra-grid:absent' } });
      const err = await spawnError(agent, await request('n-img'));
      expect(err.message).toContain('sutra-grid:absent');
      expect(err.message).toContain('[docker].image');
      expect(await agentContainers(docker, agent.agentId)).toEqual([]);
    });
  });
});
