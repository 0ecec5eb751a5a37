/**
 * A node whose port another process holds is moved, not crashed: real master, agent, storage-server
 * processes, and a real foreign process on the node's port. Before the fix such a node burned all its
 * restarts on EADDRINUSE and ended `failed` (CI: "failed after 3 restarts").
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { EXIT_PORT_TAKEN } from '../../runtime/storage/exit-codes.js';
import { healthCheck, startAgent, type AgentProcess } from '../helpers/agent-processes.js';
import { cleanup, eventually, isAlive, REPO_ROOT, startMaster, tempDir, trackPid, type DaemonProcess } from '../helpers/processes.js';
import { EventsClient } from '../events-e2e/support.js';

const STORAGE_MAIN = join(REPO_ROOT, 'dist', 'runtime', 'storage', 'main.js');
const FAST_MASTER = ['--heartbeat-interval', '200ms', '--degraded-after', '2s', '--offline-after', '4s', '--health-check-interval', '100ms'];

let client: EventsClient | undefined;
const servers: Server[] = [];
/** Dirs of clashingBinary(): their port holders run in their own session, so cleanup kills them here. */
const clashDirs: string[] = [];

afterEach(async () => {
  client?.close();
  client = undefined;
  for (const s of servers.splice(0)) s.close();
  for (const dir of clashDirs.splice(0)) {
    const pid = holderPid(dir);
    if (pid > 0) trackPid(pid);
  }
  await cleanup();
});

async function grid(config: Record<string, Record<string, string | number | boolean>> = {}): Promise<{ master: DaemonProcess; agent: AgentProcess; c: EventsClient }> {
  const master = await startMaster({ args: FAST_MASTER });
  const agent = await startAgent({ master: master.address, config });
  client = new EventsClient(master.address);
  const c = client;
  await eventually(async () => (await c.listAgents()).agents.some((a) => a.info?.agentId === agent.id), 15_000);
  return { master, agent, c };
}

/** The master's view of one node. */
async function masterNode(c: EventsClient, nodeId: string): Promise<NodeInfo | undefined> {
  return (await c.listNodes()).nodes.find((n) => n.nodeId === nodeId);
}

/**
 * A foreign process (not the agent's, not a node's process group) that binds 127.0.0.1:`port` as
 * soon as it can: started while the node holds the port, it takes it the moment the node dies.
 */
async function grabber(port: number): Promise<{ proc: ChildProcess; bound: Promise<void> }> {
  const script = `
    const net = require('node:net');
    const tryBind = () => {
      const s = net.createServer();
      s.once('error', () => setTimeout(tryBind, 1));
      s.listen({ port: ${port}, host: '127.0.0.1', exclusive: true }, () => process.stdout.write('bound\\n'));
    };
    process.stdout.write('waiting\\n');
    tryBind();`;
  const proc = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  trackPid(proc.pid!);
  let out = '';
  let onLine: () => void = () => {};
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    onLine();
  });
  const seen = (word: string): Promise<void> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (out.includes(word)) resolve();
      };
      const prev = onLine;
      onLine = () => {
        prev();
        check();
      };
      check();
    });
  await seen('waiting');
  return { proc, bound: seen('bound') };
}

/**
 * A storage binary for `[storage].binary_path` that, on its first start only, has a foreign process
 * (own session, so not the node's group) take the port it was given before running the bundled
 * server, then exits with `exitWhenTaken` if the server could not bind. Deterministic: the port is
 * always taken between the agent's check and the node's bind. Returns the pid file of the holder.
 */
function clashingBinary(exitWhenTaken: number): string {
  const dir = tempDir('clash-bin-');
  const holder = join(dir, 'holder.cjs');
  writeFileSync(holder, `require('node:net').createServer().listen(Number(process.argv[2]), '127.0.0.1', () => require('node:fs').writeFileSync(process.argv[3], String(process.pid)));\n`);
  const script = join(dir, 'storage.sh');
  writeFileSync(
    script,
    `#!/bin/sh
# argv: --port P --storage-path DIR --memory MB (the agent's order)
mark="${dir}/taken"
if [ ! -e "$mark" ]; then
  : > "$mark"
  setsid "${process.execPath}" "${holder}" "$2" "${dir}/holder.pid" > /dev/null 2>&1 &
  while [ ! -s "${dir}/holder.pid" ]; do sleep 0.01; done
fi
"${process.execPath}" "${STORAGE_MAIN}" "$@"
code=$?
[ $code -eq ${EXIT_PORT_TAKEN} ] && exit ${exitWhenTaken}
exit $code
`,
  );
  chmodSync(script, 0o755);
  clashDirs.push(dir);
  return dir;
}

/** The pid of a clashing binary's port holder; 0 when it never started. */
function holderPid(dir: string): number {
  try {
    return Number(readFileSync(join(dir, 'holder.pid'), 'utf8'));
  } catch {
    return 0;
  }
}

describe('a node port taken by another process', () => {
  it('the bundled storage-server exits with its own code, naming the port', async () => {
    const held = createServer();
    servers.push(held);
    await new Promise<void>((r) => held.listen(0, '127.0.0.1', r));
    const port = (held.address() as { port: number }).port;
    const res = spawnSync(process.execPath, [STORAGE_MAIN, '--port', String(port), '--storage-path', tempDir('held-')], { encoding: 'utf8', timeout: 20_000 });
    expect(res.status).toBe(EXIT_PORT_TAKEN);
    expect(res.stderr).toContain(`storage-server: port ${port} on 127.0.0.1 is in use by another process`);
  });

  it('moves a node to another port of its range when a foreign process takes its port across a restart', async () => {
    const { agent, c } = await grid({ monitoring: { restart_max: 3, restart_window_secs: 60 } });
    const spawned = (await c.spawn({ agentId: agent.id, nodeId: 'n-move' })).node!;
    trackPid(spawned.pid);
    const oldPort = spawned.port;
    const foreign = await grabber(oldPort);

    // WHEN the node dies (a real crash) and the foreign process takes its port before the restart
    process.kill(spawned.pid, 'SIGKILL');
    await foreign.bound;

    // THEN it runs again on another port of the agent's range, and the master lists that port
    const back = await eventually(async () => {
      const n = await masterNode(c, 'n-move');
      return n !== undefined && n.status === 'running' && n.port !== oldPort && n.pid !== spawned.pid ? n : undefined;
    }, 20_000);
    trackPid(back.pid);
    expect(back.port).toBeGreaterThan(oldPort);
    expect(back.port).toBeLessThan(oldPort + 50);
    expect((await healthCheck(`127.0.0.1:${back.port}`)).status).toBe('SERVING');
    // Only the kill counts as a restart; the clash does not.
    expect(back.restarts).toBe(1);
    expect(back.lastExit).toBe(`port ${oldPort} taken by another process, moved to ${back.port}`);
    expect(isAlive(foreign.proc.pid!)).toBe(true);

    // AND the move is an event saying why; the node crashed once and never failed
    const moved = await c.waitFor('NodePortMoved', (e) => e.nodeId === 'n-move');
    expect(moved.payload).toEqual({ fromPort: oldPort, toPort: back.port, reason: `port ${oldPort} taken by another process` });
    expect(moved.message).toBe(`node n-move on agent ${agent.id} moved from port ${oldPort} to ${back.port}: port ${oldPort} taken by another process`);
    expect((await c.ofType('NodeCrashed', { nodeId: 'n-move' })).length).toBe(1);
    expect(await c.ofType('NodeFailed', { nodeId: 'n-move' })).toEqual([]);
  });

  it.each([
    ['exits with the storage-server\'s port-taken code', EXIT_PORT_TAKEN],
    ['exits 1 without saying why (a custom binary)', 1],
  ])('moves a first start whose port is taken between the check and the bind: binary %s', async (_name, exitWhenTaken) => {
    const bin = clashingBinary(exitWhenTaken);
    const { agent, c } = await grid({ storage: { binary_path: join(bin, 'storage.sh') } });

    const node = (await c.spawn({ agentId: agent.id, nodeId: 'first' })).node!;
    trackPid(node.pid);
    const held = holderPid(bin);
    expect(isAlive(held)).toBe(true);

    // The spawn answers with the port the node really serves on, with no restart spent.
    expect(node.status).toBe('running');
    expect(node.restarts).toBe(0);
    expect(node.lastExit).toMatch(new RegExp(`^port (\\d+) taken by another process, moved to ${node.port}$`));
    expect((await healthCheck(`127.0.0.1:${node.port}`)).status).toBe('SERVING');
    const moved = await c.waitFor('NodePortMoved', (e) => e.nodeId === 'first');
    expect(moved.payload['toPort']).toBe(node.port);
    expect(await c.ofType('NodeCrashed', { nodeId: 'first' })).toEqual([]);
    await eventually(async () => (await masterNode(c, 'first'))?.port === node.port, 10_000);
  });

  it('never moves a port the spawn asked for: the clash counts as a crash until the node fails', async () => {
    const { agent, c } = await grid({ monitoring: { restart_max: 2, restart_window_secs: 60 } });
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const pinned = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const spawned = (await c.spawn({ agentId: agent.id, nodeId: 'pinned', port: pinned })).node!;
    trackPid(spawned.pid);
    const foreign = await grabber(pinned);

    process.kill(spawned.pid, 'SIGKILL');
    await foreign.bound;

    const failed = await eventually(async () => {
      const n = await masterNode(c, 'pinned');
      return n?.status === 'failed' ? n : undefined;
    }, 20_000);
    expect(failed.port).toBe(pinned);
    expect(failed.lastExit).toBe(`port ${pinned} taken by another process (the port was requested explicitly, so the node is not moved)`);
    expect(await c.ofType('NodePortMoved', { nodeId: 'pinned' })).toEqual([]);
  });

  it('agents sharing a port range that spawn at the same moment each end on a port of their own', async () => {
    // The CI flake: every agent of a test grid used the default range, so they raced for its first port.
    const master = await startMaster({ args: FAST_MASTER });
    client = new EventsClient(master.address);
    const c = client;
    const shared = { storage: { default_port_range_start: 0, port_range_size: 50 } };
    const first = await startAgent({ master: master.address });
    const range = Number(/default_port_range_start = (\d+)/.exec(readFileSync(first.configPath, 'utf8'))![1]);
    shared.storage.default_port_range_start = range;
    const others = await Promise.all([startAgent({ master: master.address, config: shared }), startAgent({ master: master.address, config: shared })]);
    const agents = [first, ...others];
    await eventually(async () => (await c.listAgents()).agents.length === 3, 15_000);

    const spawned = await Promise.all(agents.map((a, i) => c.spawn({ agentId: a.id, nodeId: `race-${i}` })));
    for (const s of spawned) trackPid(s.node!.pid);

    const nodes = await eventually(async () => {
      const all = (await c.listNodes()).nodes.filter((n) => n.nodeId.startsWith('race-'));
      return all.length === 3 && all.every((n) => n.status === 'running') ? all : undefined;
    }, 15_000);
    expect(new Set(nodes.map((n) => n.port)).size).toBe(3);
    expect(nodes.map((n) => n.restarts)).toEqual([0, 0, 0]);
    for (const n of nodes) {
      expect(n.port).toBeGreaterThanOrEqual(range);
      expect((await healthCheck(`127.0.0.1:${n.port}`)).status).toBe('SERVING');
    }
    // What each spawn answered is where the node serves (not a neighbour's port).
    expect(spawned.map((s) => s.node!.port).sort()).toEqual(nodes.map((n) => n.port).sort());
  });
});
