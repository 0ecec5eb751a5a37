/**
 * What a hostile node or caller can do to the agent's files through a storage path: plant
 * symlinks, hard links and FIFOs where the agent writes, nest one node inside another, point a
 * path at the agent's own state, or send a path long enough to freeze a quadratic check.
 */
import { spawnSync } from 'node:child_process';
import { linkSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { TestAgentClient, codeOf, startAgent } from '../helpers/agent-processes.js';
import { TestMasterClient } from '../helpers/grid-client.js';
import { cleanup, eventually, startMaster, tempDir, trackPid } from '../helpers/processes.js';

afterEach(cleanup);

const FAST_MASTER = ['--heartbeat-interval', '200ms'];

/** Kills the node and waits until the agent has restarted it with a new pid. */
async function crashAndRestart(c: TestAgentClient, nodeId: string, pid: number): Promise<number> {
  process.kill(pid, 'SIGKILL');
  const back = await eventually(async () => {
    const s = await c.status(nodeId);
    return s.status === 'running' && s.pid !== pid ? s : undefined;
  }, 20_000, 50);
  trackPid(back.pid);
  return back.pid;
}

describe('agent: files a node controls are never followed', () => {
  it('a node.log replaced by a symlink, a hard link or a FIFO is not written through on restart', async () => {
    const master = await startMaster({ args: FAST_MASTER });
    const agent = await startAgent({ master: master.address });
    const c = new TestAgentClient(agent.address);
    const victimDir = tempDir('victim-');
    const victim = join(victimDir, 'precious');
    writeFileSync(victim, 'do not touch\n');
    try {
      const node = await c.spawn({ nodeId: 'hostile' });
      const log = join(node.storagePath, 'node.log');
      expect(lstatSync(log).isFile()).toBe(true);

      // GIVEN the node swaps its log for a symlink to a file it wants the (root) agent to append to
      rmSync(log);
      symlinkSync(victim, log);
      // WHEN it crashes and the agent restarts it
      let pid = await crashAndRestart(c, 'hostile', node.pid);
      // THEN the target is untouched, the link is gone, and the new log is a plain file
      expect(readFileSync(victim, 'utf8')).toBe('do not touch\n');
      expect(lstatSync(log).isSymbolicLink()).toBe(false);
      expect(lstatSync(log).isFile()).toBe(true);
      expect(agent.logs()).toContain('node.log is not a plain file of the agent');

      // A hard link to the victim looks like a regular file; its link count gives it away.
      rmSync(log);
      linkSync(victim, log);
      pid = await crashAndRestart(c, 'hostile', pid);
      expect(readFileSync(victim, 'utf8')).toBe('do not touch\n');
      expect(lstatSync(log).nlink).toBe(1);

      // A FIFO nobody reads would block a plain open (and the agent's event loop) forever.
      rmSync(log);
      expect(spawnSync('mkfifo', [log]).status).toBe(0);
      await crashAndRestart(c, 'hostile', pid);
      expect(lstatSync(log).isFile()).toBe(true);
      expect((await c.list()).map((n) => n.status)).toEqual(['running']);
    } finally {
      c.close();
    }
  });

  it('refuses to create a node directory through a symlink planted where a directory should be', async () => {
    const master = await startMaster({ args: FAST_MASTER });
    const agent = await startAgent({ master: master.address });
    const c = new TestAgentClient(agent.address);
    try {
      // A link that points back inside the data dir passes the path check; mkdir must still not follow it.
      mkdirSync(join(agent.dataDir, 'real'), { recursive: true });
      symlinkSync(join(agent.dataDir, 'real'), join(agent.dataDir, 'via-link'));
      const res = await codeOf(c.spawn({ nodeId: 'n1', storagePath: 'via-link/n1' }));
      expect(res.code).not.toBe(0);
      expect(res.details).toContain('is a symlink');
      expect(() => lstatSync(join(agent.dataDir, 'real', 'n1'))).toThrow();
    } finally {
      c.close();
    }
  });
});

describe('agent: storage paths a caller sends', () => {
  it('refuses nested paths, ":", a symlink into .agent and a 100 KB path, each with INVALID_ARGUMENT naming the problem', async () => {
    const master = await startMaster({ args: FAST_MASTER });
    const agent = await startAgent({ master: master.address });
    const c = new TestAgentClient(agent.address);
    try {
      await c.spawn({ nodeId: 'outer', storagePath: 'shared/outer' });

      const inside = await codeOf(c.spawn({ nodeId: 'inner', storagePath: 'shared/outer/inner' }));
      expect(inside.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(inside.details).toContain('is inside the storage path of node "outer"');
      const around = await codeOf(c.spawn({ nodeId: 'around', storagePath: 'shared' }));
      expect(around.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(around.details).toContain('contains the storage path of node "outer"');

      const colon = await codeOf(c.spawn({ nodeId: 'colon', storagePath: 'x:/etc:rw' }));
      expect(colon.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(colon.details).toContain('contains ":"');

      symlinkSync(join(agent.dataDir, '.agent'), join(agent.dataDir, 'state'));
      const state = await codeOf(c.spawn({ nodeId: 'state', storagePath: 'state/nodes' }));
      expect(state.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(state.details).toContain("agent's state dir");

      const t0 = Date.now();
      const long = await codeOf(c.spawn({ nodeId: 'long', storagePath: 'a/'.repeat(50 * 1024) }));
      // Before: the agent froze for over 25 s in a quadratic ancestor walk.
      expect(Date.now() - t0).toBeLessThan(2_000);
      expect(long.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(long.details).toContain('(PATH_MAX)');
      expect(long.details.length).toBeLessThan(300);

      expect((await c.list()).map((n) => n.nodeId)).toEqual(['outer']);
    } finally {
      c.close();
    }
  });

  it('refuses a 100 KB path sent through the master just as fast, and the agent stays online', async () => {
    const master = await startMaster({ args: FAST_MASTER });
    const agent = await startAgent({ master: master.address });
    const m = new TestMasterClient(master.address);
    try {
      await eventually(async () => (await m.listAgents()).agents.some((a) => a.info?.agentId === agent.id));
      const t0 = Date.now();
      const res = await codeOf(m.spawn({ agentId: agent.id, nodeId: 'long', storagePath: 'a/'.repeat(50 * 1024) }));
      expect(Date.now() - t0).toBeLessThan(2_000);
      expect(res.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(res.details).toContain('(PATH_MAX)');
      const self = (await m.listAgents()).agents.find((a) => a.info?.agentId === agent.id);
      expect(self?.health).toBe('healthy');
    } finally {
      m.close();
    }
  });
});
