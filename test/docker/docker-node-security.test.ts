/**
 * What a node container is given, against a real Engine: never the control-plane token (only the
 * node token derived from it), never root, never a mount a path character could rewrite; under
 * mutual TLS its credential read-only, readable by its uid and nobody else.
 */
import { lstatSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type Dockerode from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DockerPlatform, resolveNodeUser, type DockerPlatformOptions } from '../../runtime/agent/docker-platform.js';
import { CONTAINER_TLS_DIR, containerCreateOptions, type ContainerSettings } from '../../runtime/agent/docker-container-spec.js';
import { nodeTlsDir } from '../../runtime/agent/node-credentials.js';
import { createCa, issueKeyAndCert } from '../../runtime/common/pki/certs.js';
import { writeCredentialDir } from '../../runtime/common/pki/credential-dir.js';
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

describe('node containers under mutual TLS', () => {
  const settings: ContainerSettings = { image: 'img', grid: 'g', agentId: 'a1', network: 'host', publishHost: '127.0.0.1', tokenFile: undefined, user: '1000:1000' };
  const spec: NodeLaunchSpec = { nodeId: 'n1', port: 7001, memoryMb: 128, storagePath: '/var/grid/nodes/n1', cluster: 'c1', role: 'storage', generation: 1 };

  it('mounts the credential directory read-only and names it and the agent in argv, keeping the hardening', () => {
    const opts = containerCreateOptions(settings, { ...spec, tlsDir: '/var/grid/.agent/node-tls/n1', agentId: 'a1', host: '10.0.0.5' });
    const cmd = opts.Cmd!;
    expect(cmd.slice(cmd.indexOf('--tls-dir'), cmd.indexOf('--tls-dir') + 4)).toEqual(['--tls-dir', CONTAINER_TLS_DIR, '--agent-id', 'a1']);
    // On the host's network the node binds the host the agent chose (beyond loopback only under TLS).
    expect(cmd[cmd.indexOf('--host') + 1]).toBe('10.0.0.5');
    expect(opts.HostConfig!.Mounts).toContainEqual({ Type: 'bind', Source: '/var/grid/.agent/node-tls/n1', Target: CONTAINER_TLS_DIR, ReadOnly: true });
    // Nothing of the credential in argv or env: paths only.
    expect(JSON.stringify([opts.Cmd, opts.Env])).not.toMatch(/PRIVATE KEY|CERTIFICATE/);
    expect(opts.HostConfig).toMatchObject({ ReadonlyRootfs: true, CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'], Privileged: false });
    expect(opts.User).toBe('1000:1000');
    // A bridged node listens on 0.0.0.0 inside its own namespace, whatever the agent's host.
    const bridged = containerCreateOptions({ ...settings, network: 'bridge' }, { ...spec, tlsDir: '/d', agentId: 'a1', host: '10.0.0.5' }).Cmd!;
    expect(bridged[bridged.indexOf('--host') + 1]).toBe('0.0.0.0');
  });

  it('without a credential: no TLS flag, no TLS mount, loopback', () => {
    const opts = containerCreateOptions(settings, spec);
    expect(opts.Cmd).not.toContain('--tls-dir');
    expect(opts.Cmd).not.toContain('--agent-id');
    expect(opts.Cmd![opts.Cmd!.indexOf('--host') + 1]).toBe('127.0.0.1');
    expect(opts.HostConfig!.Mounts!.map((m) => m.Target)).toEqual(['/data']);
  });

  it('the node reads its key as its own uid, cannot write the mounted directory, and nobody else reads the key', async () => {
    // GIVEN a bridged node without a token (mutual TLS instead), its credential written for its uid
    const platform = await newPlatform({ token: undefined, tls: true });
    const spec = await specFor('n-tls');
    const ca = createCa('docker security test CA');
    const leaf = issueKeyAndCert(ca, { role: 'node', name: spec.nodeId }, { ttlMs: 3_600_000 });
    const dir = nodeTlsDir(data.dir, spec.nodeId);
    writeCredentialDir(dir, { caPem: ca.certPem, certPem: leaf.certPem, keyPem: leaf.keyPem }, platform.nodeUser);
    const instance = await platform.start({ ...spec, tlsDir: dir, agentId: 'agent-x' });
    const info = await docker.getContainer(instance.containerId!).inspect();

    // THEN the directory is mounted read-only and the node runs with it
    expect(info.HostConfig.Mounts).toContainEqual(expect.objectContaining({ Type: 'bind', Source: dir, Target: CONTAINER_TLS_DIR, ReadOnly: true }));
    expect(info.Config.Cmd).toEqual(expect.arrayContaining(['--tls-dir', CONTAINER_TLS_DIR, '--agent-id', 'agent-x']));
    expect(info.Config.Cmd).not.toContain('--token-file');
    const read = await execIn(docker, instance.containerId!, ['node', '-e', `process.stdout.write(require('fs').readFileSync('${CONTAINER_TLS_DIR}/key.pem','utf8'))`]);
    expect(read).toBe(leaf.keyPem);
    const write = await execIn(docker, instance.containerId!, ['node', '-e', `try{require('fs').writeFileSync('${CONTAINER_TLS_DIR}/x','x');process.stdout.write('wrote')}catch(e){process.stdout.write(e.code)}`]);
    expect(write).toBe('EROFS');
    // ...and on the host: files 0600 of the node's uid, the directory the agent's (no link planted by that uid), entered only
    const uid = Number(info.Config.User.split(':')[0]);
    for (const f of ['key.pem', 'cert.pem', 'ca.pem']) {
      const st = statSync(join(dir, f));
      expect(st.mode & 0o777, f).toBe(0o600);
      expect(st.uid, f).toBe(uid);
    }
    const d = statSync(dir);
    expect(d.uid).toBe(process.getuid!());
    expect(d.mode & 0o777).toBe(platform.nodeUser === undefined ? 0o700 : 0o710);
    // The published port is where the agent dials a bridged node.
    expect(platform.nodeDialHost).toBe('127.0.0.1');
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
