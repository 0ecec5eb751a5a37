/**
 * What a node container is given, against a real Engine: never the control-plane token (only the
 * node token derived from it), never root, never a mount a path character could rewrite.
 */
import { lstatSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type Dockerode from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DockerPlatform, resolveNodeUser, type DockerPlatformOptions } from '../../runtime/agent/docker-platform.js';
import { nodeToken } from '../../runtime/agent/node-token.js';
import type { NodeLaunchSpec } from '../../runtime/agent/platform.js';
import { DOCKER_SOCKET, execIn, freePort, removeAgentContainers, requireEngine, requireImage, roundTrip, tempDataDir, uniqueAgentId, waitServing } from './helpers.js';

const TOKEN = 'docker-security-control-plane-token';

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

async function newPlatform(overrides: Partial<DockerPlatformOptions> = {}): Promise<DockerPlatform> {
  const agentId = uniqueAgentId('sec');
  agentIds.push(agentId);
  const platform = await DockerPlatform.create({ socketPath: DOCKER_SOCKET, image, agentId, dataDir: data.dir, network: 'bridge', token: TOKEN, ...overrides });
  platforms.push(platform);
  return platform;
}

async function specFor(nodeId: string): Promise<NodeLaunchSpec> {
  return { nodeId, port: await freePort(), memoryMb: 128, storagePath: join(data.dir, 'nodes', nodeId), cluster: 'c1', role: 'storage', generation: 1 };
}

/** Every regular file bind-mounted into the container, read from the host side. */
function mountedFileContents(info: Dockerode.ContainerInspectInfo): string[] {
  return info.Mounts.filter((m) => m.Type === 'bind' && statSync(m.Source).isFile()).map((m) => readFileSync(m.Source, 'utf8'));
}

describe('node containers: no control-plane token, no root', () => {
  it('a bridge-mode node holds only the derived node token, which is what it checks', async () => {
    const platform = await newPlatform();
    const spec = await specFor('n-bridge');
    const instance = await platform.start(spec);
    await waitServing(spec.port);
    const info = await docker.getContainer(instance.containerId!).inspect();

    // Nothing the container is given carries the control-plane token: not its env, not its mounts.
    expect(JSON.stringify(info.Config.Env)).not.toContain(TOKEN);
    for (const content of mountedFileContents(info)) expect(content).not.toContain(TOKEN);
    const inside = await execIn(docker, instance.containerId!, ['node', '-e', "process.stdout.write(require('fs').readFileSync('/run/sutra/token','utf8'))"]);
    expect(inside).toBe(nodeToken(TOKEN));
    expect(inside).not.toContain(TOKEN);
    // No env var of the node process holds it either.
    const env = await execIn(docker, instance.containerId!, ['node', '-e', 'process.stdout.write(JSON.stringify(process.env))']);
    expect(env).not.toContain(TOKEN);
    expect(env).not.toContain('SUTRA_GRID_TOKEN');

    // Callers authenticate with the node token; the control-plane token itself is refused.
    expect(await roundTrip(spec.port, nodeToken(TOKEN), 'a')).toBe('content of a');
    const refused = await roundTrip(spec.port, TOKEN, 'b').then(
      () => undefined,
      (e: { code?: number }) => e.code,
    );
    expect(refused).toBe(GrpcStatus.UNAUTHENTICATED);
  });

  it('runs the node as a non-root uid that owns and can write its storage dir', async () => {
    const platform = await newPlatform({ network: 'host', token: undefined });
    const spec = await specFor('n-user');
    const instance = await platform.start(spec);
    await waitServing(spec.port);
    const info = await docker.getContainer(instance.containerId!).inspect();

    const expected = resolveNodeUser(undefined).user;
    expect(info.Config.User).toBe(expected);
    const uid = Number((await execIn(docker, instance.containerId!, ['node', '-e', 'process.stdout.write(String(process.getuid()))'])).trim());
    expect(uid).not.toBe(0);
    expect(`${uid}`).toBe(expected.split(':')[0]);
    // It could write: a concept went to disk under its own uid.
    expect(await roundTrip(spec.port, undefined, 'c')).toBe('content of c');
    expect(lstatSync(spec.storagePath).uid).toBe(uid);
  });

  it('mounts storage with the structured Mounts API, not bind strings', async () => {
    const platform = await newPlatform();
    const spec = await specFor('n-mounts');
    const instance = await platform.start(spec);
    const info = await docker.getContainer(instance.containerId!).inspect();
    expect(info.HostConfig.Binds ?? []).toEqual([]);
    expect(info.HostConfig.Mounts).toEqual([
      expect.objectContaining({ Type: 'bind', Source: spec.storagePath, Target: '/data' }),
      expect.objectContaining({ Type: 'bind', Target: '/run/sutra/token', ReadOnly: true }),
    ]);
  });
});

describe('[docker].user', () => {
  it('accepts numeric uid or uid:gid and refuses anything else, naming the key', () => {
    const asRoot = (process.getuid?.() ?? 0) === 0;
    if (asRoot) {
      expect(resolveNodeUser(undefined)).toEqual({ user: '1000:1000', owner: { uid: 1000, gid: 1000 } });
      expect(resolveNodeUser('2000')).toEqual({ user: '2000:2000', owner: { uid: 2000, gid: 2000 } });
      expect(resolveNodeUser('2000:3000').user).toBe('2000:3000');
    } else {
      expect(resolveNodeUser(undefined).user).toBe(`${process.getuid!()}:${process.getgid!()}`);
    }
    for (const bad of ['node', '1000:', '-1', '1000:1000:1', '']) {
      expect(() => resolveNodeUser(bad), bad).toThrow(/\[docker\]\.user/);
    }
  });
});
