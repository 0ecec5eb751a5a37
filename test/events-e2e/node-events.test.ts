/**
 * Node and agent lifecycle events produced by real scenarios: a real master, a real agent running
 * real storage-server nodes, read back through ListEvents and `sutra-grid events --json`.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent } from '../helpers/agent-processes.js';
import { cleanup, eventually, runCli, startMaster, trackPid } from '../helpers/processes.js';
import { EventsClient, FAST_MASTER, type SeenEvent } from './support.js';

const clients: EventsClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await cleanup();
});

function client(address: string): EventsClient {
  const c = new EventsClient(address);
  clients.push(c);
  return c;
}

const typesOf = (events: readonly SeenEvent[]): string[] => events.map((e) => e.type);

describe('events from a real grid: agents', () => {
  it('records the registration, and folds heartbeats into a series whose count grows', async () => {
    const master = await startMaster({ args: [...FAST_MASTER, '--event-series-flush', '400ms'] });
    const agent = await startAgent({ master: master.address });
    const c = client(master.address);

    const registered = await c.waitFor('AgentRegistered', (e) => e.agentId === agent.id);
    expect(registered).toMatchObject({ severity: 'info', payload: { platform: 'process', address: expect.stringMatching(/^127\.0\.0\.1:\d+$/) } });
    // The agent's hostname travels in its AgentInfo; the event must not lose it.
    expect(registered.payload['hostname']).toEqual(expect.any(String));
    expect(registered.payload['hostname']).not.toBe('');

    // WHEN the agent heartbeats every 200 ms for a while
    const series = await eventually(async () => {
      const beats = await c.ofType('AgentHeartbeat', { agentId: agent.id });
      const max = Math.max(0, ...beats.map((b) => b.count));
      return max >= 8 ? beats : undefined;
    }, 15_000, 200);

    // THEN the log holds a few series records, not one record per heartbeat
    const maxCount = Math.max(...series.map((b) => b.count));
    expect(series.length).toBeLessThan(maxCount);
    expect(series[0]!.count).toBe(1); // the opening record
    // Each later record carries the cumulative count and the latest sighting.
    for (let i = 1; i < series.length; i++) {
      expect(series[i]!.count).toBeGreaterThanOrEqual(series[i - 1]!.count);
      expect(series[i]!.lastSeenUs).toBeGreaterThanOrEqual(series[i - 1]!.lastSeenUs);
      expect(series[i]!.index).toBeGreaterThan(series[i - 1]!.index);
    }
    expect(series.every((b) => b.payload['nodeCount'] === 0)).toBe(true);
  });
});

describe('events from a real grid: nodes', () => {
  it('spawn, kill -9 (crash, restart), kill -9 again (failed), stop: each as an event, in order', async () => {
    const master = await startMaster({ args: FAST_MASTER });
    // One restart allowed: the second crash within the window exhausts it.
    const agent = await startAgent({ master: master.address, config: { monitoring: { restart_max: 1, restart_window_secs: 60 } } });
    const c = client(master.address);
    await c.waitFor('AgentRegistered', (e) => e.agentId === agent.id);

    const spawned = (await c.spawn({ agentId: agent.id, nodeId: 'n1' })).node!;
    trackPid(spawned.pid);
    const ok = await c.waitFor('SpawnSucceeded', (e) => e.nodeId === 'n1');
    expect(ok).toMatchObject({ agentId: agent.id, severity: 'info', payload: { pid: spawned.pid, port: spawned.port, durationMs: expect.any(Number) } });

    // WHEN the node is killed hard
    process.kill(spawned.pid, 'SIGKILL');
    const crashed = await c.waitFor('NodeCrashed', (e) => e.nodeId === 'n1');
    expect(crashed).toMatchObject({ agentId: agent.id, severity: 'error', payload: { signal: 'SIGKILL' } });
    expect(crashed.payload).not.toHaveProperty('exitCode');
    const restarted = await c.waitFor('NodeRestarted', (e) => e.nodeId === 'n1');
    expect(restarted.payload).toEqual({ restartCount: 1, newPid: expect.any(Number) });
    const newPid = restarted.payload['newPid'] as number;
    trackPid(newPid);
    expect(newPid).not.toBe(spawned.pid);
    await eventually(async () => (await c.nodeStatus('n1')).node?.pid === newPid, 10_000);

    // WHEN it is killed again within the window: restarts are exhausted
    process.kill(newPid, 'SIGKILL');
    const failed = await c.waitFor('NodeFailed', (e) => e.nodeId === 'n1');
    expect(failed).toMatchObject({ severity: 'error', payload: { restartCount: 1, reason: expect.stringMatching(/crashed 2 times/) } });

    // THEN the node's story reads in order, through gRPC and through the CLI
    const story = await c.list({ nodeId: 'n1' });
    expect(typesOf(story)).toEqual(['SpawnRequested', 'SpawnSucceeded', 'NodeCrashed', 'NodeRestarted', 'NodeCrashed', 'NodeFailed']);
    const cli = await runCli(['events', '--node', 'n1', '--json', '--master', master.address]);
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    const printed = JSON.parse(cli.stdout) as { events: Array<{ index: number; type: string; message: string; payload: unknown }>; lastIndex: number };
    expect(printed.events.map((e) => e.type)).toEqual(typesOf(story));
    expect(printed.events.map((e) => e.index)).toEqual(story.map((e) => e.index));
    expect(printed.events[2]).toMatchObject({ payload: { signal: 'SIGKILL' }, message: `node n1 on agent ${agent.id} crashed (signal SIGKILL)` });

    // WHEN a second node is spawned and stopped
    trackPid((await c.spawn({ agentId: agent.id, nodeId: 'n2' })).node!.pid);
    await c.stop('n2');
    const stopped = await c.waitFor('StopSucceeded', (e) => e.nodeId === 'n2');
    expect(stopped.payload).toEqual({ durationMs: expect.any(Number) });
    expect(typesOf(await c.list({ nodeId: 'n2' }))).toEqual(['SpawnRequested', 'SpawnSucceeded', 'StopRequested', 'StopSucceeded']);
  });

  it('a spawn on a port already in use is a SpawnFailed naming the port, recorded once', async () => {
    const master = await startMaster({ args: FAST_MASTER });
    const agent = await startAgent({ master: master.address });
    const c = client(master.address);
    await c.waitFor('AgentRegistered', (e) => e.agentId === agent.id);
    const squatter: Server = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    try {
      const port = (squatter.address() as { port: number }).port;
      await expect(c.spawn({ agentId: agent.id, nodeId: 'busy', port })).rejects.toThrow(/port/);
      const failed = await c.waitFor('SpawnFailed', (e) => e.nodeId === 'busy');
      expect(failed).toMatchObject({ agentId: agent.id, severity: 'error' });
      expect(failed.payload['reason']).toMatch(new RegExp(`${port}`));
      expect(typesOf(await c.list({ nodeId: 'busy' }))).toEqual(['SpawnRequested', 'SpawnFailed']);
      expect((await c.ofType('SpawnRequested', { nodeId: 'busy' }))[0]!.payload).toEqual({ port });
    } finally {
      squatter.close();
    }
  });

  it('a node that exits at start: NodeCrashed with its exit code, NodeFailed, and one SpawnFailed (not one per side)', async () => {
    const master = await startMaster({ args: FAST_MASTER });
    const agent = await startAgent({ master: master.address, config: { storage: { binary_path: '/bin/false' }, monitoring: { restart_max: 0 } } });
    const c = client(master.address);
    await c.waitFor('AgentRegistered', (e) => e.agentId === agent.id);

    await expect(c.spawn({ agentId: agent.id, nodeId: 'dud' })).rejects.toThrow(/exit code 1/);
    const failed = await c.waitFor('NodeFailed', (e) => e.nodeId === 'dud');
    expect(failed.payload).toMatchObject({ restartCount: 0 });
    await c.waitFor('SpawnFailed', (e) => e.nodeId === 'dud');
    // The agent's report and the master's own record have both arrived by now; nothing else comes.
    await new Promise((r) => setTimeout(r, 500));
    const story = await c.list({ nodeId: 'dud' });
    expect([...typesOf(story)].sort()).toEqual(['NodeCrashed', 'NodeFailed', 'SpawnFailed', 'SpawnRequested']);
    expect(story.find((e) => e.type === 'NodeCrashed')!.payload).toEqual({ exitCode: 1 });
    expect(story.find((e) => e.type === 'SpawnFailed')!.payload['reason']).toMatch(/failed to start: exit code 1/);
  });
});
