/**
 * The agent daemon's lifecycle as real processes: clean SIGTERM, re-adoption after kill -9,
 * re-registration after a master restart, and refusal of a bad config.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestAgentClient, startAgent, toToml } from '../helpers/agent-processes.js';
import { TestMasterClient } from '../helpers/grid-client.js';
import { cleanup, eventually, isAlive, runCli, startMaster, tempDir, trackPid } from '../helpers/processes.js';

afterEach(cleanup);

const FAST_MASTER = ['--heartbeat-interval', '200ms'];

/** Pids of storage-server processes whose command line mentions `needle`. */
function processesWith(needle: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number)) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle)) out.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

describe('agent: lifecycle', () => {
  it('on SIGTERM stops every node, unregisters, exits 0 and leaves no process behind', async () => {
    const master = await startMaster({ args: FAST_MASTER });
    const agent = await startAgent({ master: master.address });
    const c = new TestAgentClient(agent.address);
    const m = new TestMasterClient(master.address);
    try {
      const nodes = await Promise.all([c.spawn({ nodeId: 'a' }), c.spawn({ nodeId: 'b' })]);
      await eventually(async () => (await m.listAgents()).agents.some((a) => a.info?.agentId === agent.id));
      expect(await agent.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      for (const n of nodes) expect(isAlive(n.pid)).toBe(false);
      expect(processesWith(agent.dataDir)).toEqual([]);
      expect(agent.logs()).toContain('unregistered from the master');
      await eventually(async () => !(await m.listAgents()).agents.some((a) => a.info?.agentId === agent.id));
    } finally {
      c.close();
      m.close();
    }
  });

  it('after kill -9 of the agent, a restarted agent re-adopts its running nodes instead of duplicating them', async () => {
    const master = await startMaster({ args: FAST_MASTER });
    const first = await startAgent({ master: master.address });
    const c1 = new TestAgentClient(first.address);
    const node = await c1.spawn({ nodeId: 'survivor' });
    c1.close();
    await first.stop('SIGKILL');
    // GIVEN the node outlived its agent (own process group)
    expect(isAlive(node.pid)).toBe(true);

    // WHEN the agent comes back with the same config and data dir
    const second = await startAgent({ master: master.address, id: first.id, dataDir: first.dataDir });
    const c2 = new TestAgentClient(second.address);
    const m = new TestMasterClient(master.address);
    try {
      // THEN it reports the same node, same pid, running, and there is exactly one such process
      const adopted = await eventually(async () => {
        const s = await c2.status('survivor');
        return s.status === 'running' ? s : undefined;
      });
      expect([adopted.pid, adopted.port]).toEqual([node.pid, node.port]);
      expect(processesWith(join(first.dataDir, 'nodes', 'survivor'))).toEqual([node.pid]);
      await eventually(async () => (await m.listNodes()).nodes.some((n) => n.nodeId === 'survivor' && n.pid === node.pid));

      // an adopted node is still supervised: killing it restarts it
      process.kill(node.pid, 'SIGKILL');
      const back = await eventually(async () => {
        const s = await c2.status('survivor');
        return s.status === 'running' && s.pid !== node.pid ? s : undefined;
      }, 20_000, 50);
      trackPid(back.pid);
      expect(back.restarts).toBe(1);

      // and SIGTERM of the agent stops it like any other node
      expect((await second.stop('SIGTERM')).code).toBe(0);
      expect(isAlive(back.pid)).toBe(false);
    } finally {
      c2.close();
      m.close();
    }
  });

  it('re-registers with a restarted master, which relearns the same nodes with the same pids', async () => {
    const port = await freePort();
    const masterDir = tempDir('master-');
    const listen = `127.0.0.1:${port}`;
    const master = await startMaster({ listen, dataDir: masterDir, args: FAST_MASTER });
    const agent = await startAgent({ master: listen });
    const c = new TestAgentClient(agent.address);
    try {
      const node = await c.spawn({ nodeId: 'steady' });
      await master.stop('SIGKILL');
      const again = await startMaster({ listen, dataDir: masterDir, args: FAST_MASTER });
      const m = new TestMasterClient(again.address);
      try {
        const seen = await eventually(async () => (await m.listNodes()).nodes.find((n) => n.nodeId === 'steady'), 20_000);
        expect([seen.pid, seen.status, seen.agentId]).toEqual([node.pid, 'running', agent.id]);
        // the node was never restarted
        expect((await c.status('steady')).restarts).toBe(0);
      } finally {
        m.close();
      }
    } finally {
      c.close();
    }
  });

  it('refuses a second agent on a data dir a live agent holds, leaving the first one and its nodes alone', async () => {
    const master = await startMaster({ args: FAST_MASTER });
    const agent = await startAgent({ master: master.address });
    const c = new TestAgentClient(agent.address);
    try {
      const node = await c.spawn({ nodeId: 'mine' });
      const second = await runCli(['agent', '--id', 'intruder', '--master', master.address, '--listen', '127.0.0.1:0', '--data-dir', agent.dataDir]);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`in use by another agent (pid ${agent.pid})`);
      expect(isAlive(node.pid)).toBe(true);
      expect((await c.status('mine')).status).toBe('running');
    } finally {
      c.close();
    }
  });

  it('refuses a bad agent-config.toml naming the key, with one line and exit 1', async () => {
    const dir = tempDir('agent-bad-config-');
    const write = (tables: Record<string, Record<string, string | number | boolean>>): string => {
      const path = join(dir, 'agent-config.toml');
      writeFileSync(path, toToml(tables));
      return path;
    };
    const wrongType = await runCli(['agent', '--config', write({ agent: { agent_id: 'x', max_storage_nodes: 'many' }, storage: { data_path: dir } })]);
    expect(wrongType.code).toBe(1);
    expect(wrongType.stderr.trim()).toBe('agent: agent-config.toml: [agent].max_storage_nodes: expected a positive integer, got "many"');

    const unknown = await runCli(['agent', '--config', write({ agent: { agent_id: 'x', max_nodes: 3 }, storage: { data_path: dir } })]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('[agent].max_nodes: unknown key');

    const noData = await runCli(['agent', '--config', write({ agent: { agent_id: 'x' } })]);
    expect(noData.code).toBe(1);
    expect(noData.stderr).toContain('--data-dir');

    const badFlag = await runCli(['agent', '--id', 'x', '--data-dir', dir, '--heartbeat-interval', 'often']);
    expect(badFlag.code).toBe(1);
    expect(badFlag.stderr).toContain('--heartbeat-interval');

    const binary = await runCli(['agent', '--config', write({ agent: { agent_id: 'x' }, storage: { data_path: dir, binary_path: '/nonexistent/storage' } })]);
    expect(binary.code).toBe(1);
    expect(binary.stderr).toContain('[storage].binary_path');
  });
});
