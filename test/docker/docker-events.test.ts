/**
 * DockerEventWatcher against the real Engine, reached through a unix-socket relay the test can cut:
 * exits are reported from the event stream with their exit code, filtered by label, and an exit
 * that happens while the stream is down is replayed after the reconnect, exactly once.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import Dockerode from 'dockerode';
import { DockerEventWatcher, type DieEvent } from '../../runtime/agent/docker-events.js';
import { DOCKER_SOCKET, eventually, removeAgentContainers, requireEngine, requireImage, tempDataDir, uniqueAgentId } from './helpers.js';

/** Relays a unix socket to the Engine's; `cut()` drops every connection, `refuse` rejects new ones. */
class EngineRelay {
  refuse = false;
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    readonly path: string,
  ) {}

  static async open(path: string): Promise<EngineRelay> {
    const relay: EngineRelay = new EngineRelay(
      createServer((client) => {
        if (relay.refuse) {
          client.destroy();
          return;
        }
        const engine = createConnection(DOCKER_SOCKET);
        for (const s of [client, engine]) {
          relay.sockets.add(s);
          s.on('close', () => relay.sockets.delete(s));
          s.on('error', () => undefined);
        }
        client.pipe(engine).pipe(client);
        client.on('close', () => engine.destroy());
        engine.on('close', () => client.destroy());
      }),
      path,
    );
    await new Promise<void>((r) => relay.server.listen(path, r));
    return relay;
  }

  cut(): void {
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

let docker: Dockerode;
let image: string;
let data: { dir: string; cleanup: () => Promise<void> };
const agentIds: string[] = [];

beforeAll(async () => {
  docker = await requireEngine();
  image = await requireImage();
  data = await tempDataDir();
}, 120_000);

afterEach(async () => {
  await removeAgentContainers(docker, agentIds.splice(0));
});

afterAll(async () => {
  await data?.cleanup();
});

/** A labelled container that exits with `code` after `afterMs`. */
async function shortLived(agentId: string, code: number, afterMs: number): Promise<Dockerode.Container> {
  const c = await docker.createContainer({
    Image: image,
    Labels: { 'sutra.agent': agentId, 'sutra.grid': 'events-test' },
    Entrypoint: ['node'],
    Cmd: ['-e', `setTimeout(() => process.exit(${code}), ${afterMs})`],
    HostConfig: { NetworkMode: 'none' },
  });
  await c.start();
  return c;
}

describe('DockerEventWatcher', () => {
  it("reports a labelled container's exit code, and ignores containers without the labels", async () => {
    const agentId = uniqueAgentId('events');
    const other = uniqueAgentId('other');
    agentIds.push(agentId, other);
    const dies: DieEvent[] = [];
    const watcher = new DockerEventWatcher(new Dockerode({ socketPath: DOCKER_SOCKET }), {
      labels: [`sutra.agent=${agentId}`, 'sutra.grid=events-test'],
      onDie: (e) => dies.push(e),
    });
    await watcher.start();
    try {
      const mine = await shortLived(agentId, 7, 0);
      const theirs = await shortLived(other, 9, 0);
      await eventually(() => dies.length >= 1, 10_000, 'the die event');
      await theirs.wait();
      // Give a stray event for the other container time to show up if the filter were wrong.
      await new Promise((r) => setTimeout(r, 300));
      expect(dies.map((d) => [d.containerId, d.exitCode])).toEqual([[mine.id, 7]]);
    } finally {
      await watcher.close();
    }
  });

  it('marks a container killed by the OOM killer at its memory limit', async () => {
    const agentId = uniqueAgentId('events');
    agentIds.push(agentId);
    const dies: DieEvent[] = [];
    const lateOoms: string[] = [];
    const watcher = new DockerEventWatcher(new Dockerode({ socketPath: DOCKER_SOCKET }), {
      labels: [`sutra.agent=${agentId}`],
      onDie: (e) => dies.push(e),
      onLateOom: (id) => lateOoms.push(id),
    });
    await watcher.start();
    try {
      const hog = await docker.createContainer({
        Image: image,
        Labels: { 'sutra.agent': agentId },
        Entrypoint: ['node'],
        // Buffers live outside the V8 heap, so the cgroup limit (not V8's) is what stops it.
        Cmd: ['-e', 'const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1));'],
        HostConfig: { NetworkMode: 'none', Memory: 64 * 1024 * 1024, MemorySwap: 64 * 1024 * 1024 },
      });
      await hog.start();
      const quiet = await shortLived(agentId, 0, 0);
      await eventually(() => dies.length >= 2, 20_000, 'both die events');
      const byId = new Map(dies.map((d) => [d.containerId, d]));
      expect(byId.get(hog.id)).toMatchObject({ exitCode: 137 });
      // The Engine sends `oom` and `die` in either order (containerd reports them apart; under
      // load the exit often comes first): the OOM is told with the exit, or right after it.
      await eventually(() => byId.get(hog.id)!.oomKilled || lateOoms.includes(hog.id), 10_000, 'the oom of the hog');
      expect(byId.get(hog.id)!.oomKilled && lateOoms.includes(hog.id)).toBe(false);
      expect(byId.get(quiet.id)).toMatchObject({ exitCode: 0, oomKilled: false });
      expect(lateOoms).not.toContain(quiet.id);
    } finally {
      await watcher.close();
    }
  });

  it('replays an exit that happened while the stream was down, once', async () => {
    const agentId = uniqueAgentId('events');
    agentIds.push(agentId);
    const relay = await EngineRelay.open(join(data.dir, 'relay.sock'));
    const dies: DieEvent[] = [];
    const watcher = new DockerEventWatcher(new Dockerode({ socketPath: relay.path }), {
      labels: [`sutra.agent=${agentId}`],
      onDie: (e) => dies.push(e),
    });
    await watcher.start();
    try {
      // GIVEN the stream is cut and reconnects are refused
      relay.refuse = true;
      relay.cut();
      // WHEN a container exits meanwhile
      const c = await shortLived(agentId, 5, 0);
      await c.wait();
      expect(dies).toEqual([]);
      // THEN once the Engine is reachable again the exit is delivered from the replay
      relay.refuse = false;
      await eventually(() => dies.length >= 1, 15_000, 'the replayed die event');
      // AND a further reconnect does not deliver it twice
      relay.cut();
      const later = await shortLived(agentId, 6, 0);
      await eventually(() => dies.length >= 2, 15_000, 'the next die event');
      await new Promise((r) => setTimeout(r, 300));
      expect(dies.map((d) => [d.containerId, d.exitCode])).toEqual([
        [c.id, 5],
        [later.id, 6],
      ]);
    } finally {
      await watcher.close();
      await relay.close();
    }
  });
});
