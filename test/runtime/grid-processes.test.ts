/**
 * Master + agent + storage nodes as real processes, driven through the CLI as a user would.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestStorageClient } from '../helpers/storage-client.js';
import { cleanup, eventually, isAlive, pidsMentioning, runCli, startAgent, startMaster, tempDir, trackPid, type CliResult } from '../helpers/processes.js';

afterEach(cleanup);

/** Fast heartbeats and thresholds so failures show within a couple of seconds. */
const FAST_MASTER = ['--heartbeat-interval', '200ms', '--degraded-after', '800ms', '--offline-after', '1600ms', '--health-check-interval', '50ms'];
const FAST_AGENT = ['--heartbeat-interval', '200ms'];

interface NodeView {
  nodeId: string;
  agentId: string;
  port: number;
  pid: number;
  status: string;
  restarts: number;
  stale?: boolean;
}

function json<T>(res: CliResult): T {
  if (res.code !== 0) throw new Error(`CLI exited ${res.code}: ${res.stderr}`);
  return JSON.parse(res.stdout) as T;
}

function oneErrorLine(res: CliResult): string {
  expect(res.code).toBe(1);
  const lines = res.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('grid: nodes through master and agent', () => {
  it('spawns a node that answers storage calls, restarts it after kill -9 with a new pid, and stops it', async () => {
    const master = await startMaster({ args: FAST_MASTER });
    await startAgent({ id: 'a1', master: master.address, args: FAST_AGENT });
    const m = ['--master', master.address, '--json'];

    const spawned = json<NodeView>(await runCli(['spawn', '--agent', 'a1', ...m]));
    expect(spawned).toEqual({ nodeId: expect.any(String), agentId: 'a1', port: expect.any(Number), pid: expect.any(Number), status: 'running' });
    trackPid(spawned.pid);
    const storage = new TestStorageClient(`127.0.0.1:${spawned.port}`);
    try {
      expect((await storage.learnConcept('c1', 'the sky is blue')).id).toBe('c1');
      expect((await storage.queryConcept('c1')).concept?.content).toBe('the sky is blue');

      // WHEN the node is killed hard
      process.kill(spawned.pid, 'SIGKILL');
      // THEN the agent restarts it with a new pid, and the data survived
      const after = await eventually(async () => {
        const s = json<NodeView>(await runCli(['node-status', spawned.nodeId, ...m]));
        return s.status === 'running' && s.pid !== spawned.pid && s.restarts >= 1 ? s : undefined;
      }, 20_000, 200);
      trackPid(after.pid);
      expect(after).toMatchObject({ nodeId: spawned.nodeId, agentId: 'a1', port: spawned.port, restarts: 1 });
      expect(after.stale).toBeUndefined();
      const again = await eventually(() => storage.queryConcept('c1').catch(() => undefined), 10_000, 100);
      expect(again.found).toBe(true);

      const stopped = json<{ status: string }>(await runCli(['stop', spawned.nodeId, ...m]));
      expect(stopped.status).toBe('stopped');
      expect(isAlive(after.pid)).toBe(false);
    } finally {
      storage.close();
    }
  });

  it('a restarted master relearns the agent and its nodes with the same pids, starting nothing', async () => {
    const dataDir = tempDir('master-');
    let master = await startMaster({ dataDir, args: FAST_MASTER });
    const listen = master.address;
    const agent = await startAgent({ id: 'a1', master: listen, args: FAST_AGENT });
    const m = ['--master', listen, '--json'];
    for (let i = 0; i < 2; i++) trackPid(json<NodeView>(await runCli(['spawn', '--agent', 'a1', ...m])).pid);
    const before = json<{ nodes: NodeView[] }>(await runCli(['list-nodes', ...m])).nodes;
    expect(before.map((n) => n.status)).toEqual(['running', 'running']);

    // WHEN the master dies and comes back on the same address
    await master.stop('SIGKILL');
    master = await startMaster({ dataDir, listen, args: FAST_MASTER });

    // THEN the agent re-registers and the master lists the same nodes with the same pids
    const relearned = await eventually(async () => {
      const nodes = json<{ nodes: NodeView[] }>(await runCli(['list-nodes', ...m])).nodes;
      return nodes.length === 2 ? nodes : undefined;
    }, 20_000, 200);
    const key = (n: NodeView): string => `${n.nodeId}:${n.pid}:${n.port}:${n.status}`;
    expect(relearned.map(key)).toEqual(before.map(key));
    expect(before.every((n) => isAlive(n.pid))).toBe(true);
    expect(json<{ agents: unknown[] }>(await runCli(['list-agents', ...m])).agents).toEqual([
      { id: 'a1', status: 'healthy', cordoned: false, cordonedBy: '', cordonReason: '', drain: '', drainDeadlineMs: 0, platform: 'process', maxNodes: expect.any(Number), nodes: 2 },
    ]);
    // Nothing was started twice: exactly the two original node processes run under the agent's dir.
    expect(agent.logs()).not.toMatch(/restart/i);
  });

  it('an agent killed with -9 goes degraded, then offline; its node status is served stale', async () => {
    const master = await startMaster({ args: FAST_MASTER });
    const agentDir = tempDir('agent-a1-');
    const agent = await startAgent({ id: 'a1', master: master.address, dataDir: agentDir, args: FAST_AGENT });
    const m = ['--master', master.address, '--json'];
    const node = json<NodeView>(await runCli(['spawn', '--agent', 'a1', ...m]));
    // Nodes run in their own process groups and outlive a SIGKILLed agent; clean them up ourselves.
    for (const pid of pidsMentioning(agentDir)) trackPid(pid);
    trackPid(node.pid);

    await agent.stop('SIGKILL');
    const healthOf = async (): Promise<string> => json<{ agents: Array<{ status: string }> }>(await runCli(['list-agents', ...m])).agents[0]?.status ?? '';
    const seen = new Set<string>();
    await eventually(async () => {
      seen.add(await healthOf());
      return seen.has('offline');
    }, 20_000, 100);
    expect(master.logs()).toMatch(/agent a1 degraded[\s\S]*agent a1 offline/);
    const status = json<{ health: string; agents: { offline: number }; nodes: { running: number } }>(await runCli(['status', ...m]));
    expect(status).toMatchObject({ health: 'critical', agents: { offline: 1 }, nodes: { running: 0 } });
    expect(json<NodeView>(await runCli(['node-status', node.nodeId, ...m]))).toMatchObject({ nodeId: node.nodeId, pid: node.pid, stale: true });
  });
});

describe('grid: bad inputs through the CLI', () => {
  it('gives the right status and one clear line for each, and leaves no process behind', async () => {
    const master = await startMaster({ args: FAST_MASTER });
    const agentDir = tempDir('agent-a1-');
    const agent = await startAgent({ id: 'a1', master: master.address, dataDir: agentDir, args: [...FAST_AGENT, '--max-nodes', '1'] });
    const m = ['--master', master.address];
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const busyPort = (busy.address() as { port: number }).port;
    try {
      expect(oneErrorLine(await runCli(['spawn', '--agent', 'agent-9', ...m]))).toBe('error: agent "agent-9" not found (NOT_FOUND)');
      expect(oneErrorLine(await runCli(['spawn', '--agent', 'a1', '--port', '80', ...m]))).toMatch(/^error: port: 80 is out of range.*\(INVALID_ARGUMENT\)$/);
      expect(oneErrorLine(await runCli(['spawn', '--agent', 'a1', '--port', String(busyPort), ...m]))).toMatch(
        new RegExp(`^error: agent "a1": port ${busyPort} is in use.*\\(FAILED_PRECONDITION\\)$`),
      );
      expect(oneErrorLine(await runCli(['spawn', '--agent', 'a1', '--storage-path', '/etc/evil', ...m]))).toMatch(
        /^error: agent "a1": storage_path "\/etc\/evil" is outside the data dir.*\(INVALID_ARGUMENT\)$/,
      );
      const ok = await runCli(['spawn', '--agent', 'a1', ...m, '--json']);
      const node = json<NodeView>(ok);
      trackPid(node.pid);
      expect(oneErrorLine(await runCli(['spawn', '--agent', 'a1', ...m]))).toMatch(/^error: agent "a1" is at capacity \(1 of 1 nodes\) \(RESOURCE_EXHAUSTED\)$/);
      expect(oneErrorLine(await runCli(['stop', 'no-such-node', ...m]))).toBe('error: node "no-such-node" not found (NOT_FOUND)');

      // Only the one good node runs under the agent's data dir (besides the agent), and the master knows only it.
      expect(pidsMentioning(agentDir).filter((pid) => pid !== agent.pid)).toEqual([node.pid]);
      expect(json<{ nodes: NodeView[] }>(await runCli(['list-nodes', ...m, '--json'])).nodes.map((n) => n.nodeId)).toEqual([node.nodeId]);
    } finally {
      busy.close();
    }
  });

  it('with a token, master and agent talk (spawn works) and a tokenless CLI is refused', async () => {
    const tokenFile = join(tempDir(), 'token');
    writeFileSync(tokenFile, 'grid-secret\n');
    const master = await startMaster({ args: [...FAST_MASTER, '--token-file', tokenFile] });
    await startAgent({ id: 'a1', master: master.address, args: [...FAST_AGENT, '--token-file', tokenFile] });
    const m = ['--master', master.address, '--json'];
    expect(oneErrorLine(await runCli(['list-agents', ...m]))).toMatch(/\(UNAUTHENTICATED\)$/);
    const node = json<NodeView>(await runCli(['spawn', '--agent', 'a1', ...m, '--token-file', tokenFile]));
    trackPid(node.pid);
    expect(node.status).toBe('running');
    const wrong = await runCli(['status', ...m], { env: { SUTRA_GRID_TOKEN: 'not-it' } });
    expect(oneErrorLine(wrong)).toMatch(/\(UNAUTHENTICATED\)$/);
  });
});
