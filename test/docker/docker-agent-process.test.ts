/**
 * The real `sutra-grid agent` process with `platform = "docker"`: nodes spawned over GridAgent run
 * as containers; an agent killed with SIGKILL and started again re-adopts them (same containers,
 * none duplicated); an agent stopped with SIGTERM leaves no container behind.
 * Needs `npm run build` (the CLI and the image come from dist/).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type Dockerode from 'dockerode';
import { GridAgentClient, type NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { insecureCredentials, unary } from '../../client/index.js';
import { NO_REPLICATION } from '../../runtime/common/grid-types.js';
import { agentContainers, DOCKER_SOCKET, freePort, removeAgentContainers, requireEngine, requireImage, roundTrip, tempDataDir, uniqueAgentId } from './helpers.js';

const REPO = resolve(import.meta.dirname, '../..');
const CLI = join(REPO, 'bin/sutra-grid.js');

let docker: Dockerode;
let image: string;
let data: { dir: string; cleanup: () => Promise<void> };
const agentIds: string[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  docker = await requireEngine();
  image = await requireImage();
  data = await tempDataDir();
}, 120_000);

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await removeAgentContainers(docker, agentIds.splice(0));
});

afterAll(async () => {
  await data?.cleanup();
});

interface RunningAgent {
  readonly child: ChildProcess;
  readonly address: string;
  readonly exited: Promise<number | null>;
}

/** Starts `sutra-grid agent --config FILE` and resolves once it prints its listening line. */
async function startAgent(configFile: string): Promise<RunningAgent> {
  const child = spawn(process.execPath, [CLI, 'agent', '--config', configFile], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'warn', SUTRA_GRID_TOKEN: '' },
  });
  children.push(child);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const address = await new Promise<string>((resolveAddr, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`agent did not start within 30 s; stderr: ${stderr}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveAddr(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited with ${code} before listening; stderr: ${stderr}`));
    });
  });
  return { child, address, exited };
}

async function writeConfig(agentId: string): Promise<string> {
  const file = join(data.dir, `${agentId}.toml`);
  // No master runs here: the agent keeps retrying its registration in the background, which does
  // not stop it from serving GridAgent.
  await writeFile(
    file,
    [
      '[agent]',
      `agent_id = "${agentId}"`,
      `master_endpoint = "127.0.0.1:${await freePort()}"`,
      'agent_port = 0',
      'platform = "docker"',
      '[storage]',
      `data_path = "${join(data.dir, agentId)}"`,
      'default_memory_mb = 128',
      '[monitoring]',
      'stop_grace_secs = 5',
      '[docker]',
      `socket_path = "${DOCKER_SOCKET}"`,
      `image = "${image}"`,
    ].join('\n'),
  );
  return file;
}

function agentClient(address: string): InstanceType<typeof GridAgentClient> {
  return new GridAgentClient(address, insecureCredentials);
}

describe('sutra-grid agent with platform = "docker"', () => {
  it('spawns containers; after SIGKILL and a restart re-adopts them; SIGTERM leaves none behind', async () => {
    const agentId = uniqueAgentId('agentproc');
    agentIds.push(agentId);
    const config = await writeConfig(agentId);

    // GIVEN an agent running two nodes as containers
    const first = await startAgent(config);
    const c1 = agentClient(first.address);
    const ports = [await freePort(), await freePort()];
    const spawned: NodeInfo[] = [];
    for (const [i, port] of ports.entries()) {
      const res = await unary(c1.spawnNode, c1, { nodeId: `n${i}`, port, memoryMb: 0, storagePath: '', cluster: 'c1', role: 'storage', generation: 1, ...NO_REPLICATION }, undefined, 30_000);
      spawned.push(res.node!);
    }
    c1.close();
    expect(spawned.map((n) => n.status)).toEqual(['running', 'running']);
    expect(await roundTrip(ports[0]!, undefined, 'before-agent-crash')).toBe('content of before-agent-crash');

    // WHEN the agent dies without stopping them, and starts again
    first.child.kill('SIGKILL');
    await first.exited;
    expect((await agentContainers(docker, agentId)).filter((c) => c.State === 'running').length).toBe(2);
    const second = await startAgent(config);

    // THEN it lists the same nodes, same containers and pids, and created no new container
    const c2 = agentClient(second.address);
    const listed = (await unary(c2.listNodes, c2, {}, undefined, 5_000)).nodes;
    c2.close();
    const key = (n: NodeInfo): string => `${n.nodeId} ${n.status} ${n.pid} ${n.containerId}`;
    expect(listed.map(key).sort()).toEqual(spawned.map(key).sort());
    const containers = await agentContainers(docker, agentId);
    expect(containers.map((c) => c.Id).sort()).toEqual(spawned.map((n) => n.containerId).sort());
    expect(await roundTrip(ports[0]!, undefined, 'before-agent-crash')).toBe('content of before-agent-crash');

    // WHEN the agent is stopped with SIGTERM, THEN its nodes are stopped and their containers removed
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(await agentContainers(docker, agentId)).toEqual([]);
  });
});
