/**
 * Shared set-up of the Docker suites: the private Engine (`SUTRA_DOCKER_SOCKET`), the locally built
 * image, gRPC probes of a node, and cleanup of every container a test created.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import { HealthClient, type HealthCheckResponse } from '../../runtime/common/health.js';
import { insecureCredentials, unary } from '../../client/index.js';
import { StorageServiceClient } from '../../proto/gen/sutra/grid/v1/storage.pb.js';

const run = promisify(execFile);

/** The Engine the suites use: CI's private dockerd (`.ci/dockerd.sh start`) unless overridden. */
export const DOCKER_SOCKET = process.env['SUTRA_DOCKER_SOCKET'] ?? '/tmp/sutra-docker/docker.sock';

/** The image `scripts/build-test-image.sh` makes from this checkout. */
export const TEST_IMAGE = process.env['SUTRA_TEST_IMAGE'] ?? 'sutra-grid:test';

const REPO = resolve(import.meta.dirname, '../..');

/**
 * An Engine client, after checking the Engine answers. Throws (the suite fails, never skips) when
 * it does not: CI must have started it with `.ci/dockerd.sh start`.
 */
export async function requireEngine(): Promise<Dockerode> {
  const docker = new Dockerode({ socketPath: DOCKER_SOCKET });
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(
      `Docker Engine not reachable at ${DOCKER_SOCKET} (${(err as Error).message}); start it with 'bash .ci/dockerd.sh start' or set SUTRA_DOCKER_SOCKET`,
    );
  }
  return docker;
}

/** Builds (or finds up to date) the test image from dist/; `npm run build` must have run. */
export async function requireImage(): Promise<string> {
  await run('bash', [join(REPO, 'scripts/build-test-image.sh'), TEST_IMAGE], {
    cwd: REPO,
    env: { ...process.env, SUTRA_DOCKER_SOCKET: DOCKER_SOCKET },
    maxBuffer: 16 * 1024 * 1024,
  });
  return TEST_IMAGE;
}

/** Containers carrying `sutra.agent=<agentId>`, running or not. */
export async function agentContainers(docker: Dockerode, agentId: string): Promise<Dockerode.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`sutra.agent=${agentId}`] } });
}

/** Force-removes every container of the given agent ids; for afterEach/afterAll, never throws. */
export async function removeAgentContainers(docker: Dockerode, agentIds: readonly string[]): Promise<void> {
  for (const id of agentIds) {
    for (const c of await agentContainers(docker, id).catch(() => [])) {
      await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
    }
  }
}

/** A unique agent id per test, so parallel files and reruns never see each other's containers. */
export function uniqueAgentId(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A fresh data dir under the OS temp dir, and its removal. */
export async function tempDataDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sutra-docker-test-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Holds a port on 127.0.0.1 until closed (to provoke PORT_IN_USE). */
export async function occupyPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, server };
}

/** One health Check of 127.0.0.1:port; resolves the status or rejects with the gRPC error. */
export async function healthOf(port: number, timeoutMs = 1_000): Promise<string> {
  const client = new HealthClient(`127.0.0.1:${port}`, insecureCredentials);
  try {
    const res = await unary<{ service: string }, HealthCheckResponse>(
      client['check'] as never,
      client,
      { service: '' },
      undefined,
      timeoutMs,
    );
    return res.status;
  } finally {
    client.close();
  }
}

/** Polls health until SERVING; rejects after `timeoutMs`. */
export async function waitServing(port: number, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      if ((await healthOf(port, 500)) === 'SERVING') return;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`127.0.0.1:${port} not SERVING within ${timeoutMs} ms: ${String(last)}`);
}

/** Learns a concept then reads it back through the node's StorageService. */
export async function roundTrip(port: number, token: string | undefined, id: string): Promise<string | undefined> {
  const client = new StorageServiceClient(`127.0.0.1:${port}`, insecureCredentials);
  try {
    await unary(client.learnConcept, client, { id, content: `content of ${id}`, attributes: {} }, token, 5_000);
    const res = await unary(client.queryConcept, client, { id }, token, 5_000);
    return res.concept?.content;
  } finally {
    client.close();
  }
}

/** Resolves once `predicate` holds, polling every 25 ms; rejects after `timeoutMs` with `what`. */
export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** Runs `cmd` inside a running container (no shell: the image has none) and returns its stdout. */
export async function execIn(docker: Dockerode, containerId: string, cmd: readonly string[]): Promise<string> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: [...cmd], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink = (into: Buffer[]) => new Writable({ write: (chunk: Buffer, _enc, done) => (into.push(chunk), done()) });
  docker.modem.demuxStream(stream, sink(out), sink(err));
  await new Promise<void>((resolveEnd, reject) => {
    stream.on('end', resolveEnd);
    stream.on('close', resolveEnd);
    stream.on('error', reject);
  });
  const { ExitCode } = await exec.inspect();
  if (ExitCode !== 0) throw new Error(`${cmd.join(' ')} exited ${ExitCode}: ${Buffer.concat(err).toString()}`);
  return Buffer.concat(out).toString();
}
