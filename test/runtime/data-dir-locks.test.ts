/**
 * Data dir locks are operating-system locks (flock), not pid files: a pid left in a lock file that
 * now belongs to some unrelated live process must not keep a master or an agent from starting,
 * while two live masters (or agents) on one data dir still exclude each other.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { flockTool, lockFile } from '../../runtime/common/file-lock.js';
import { cleanup, runCli, startAgent, startMaster, tempDir, trackPid } from '../helpers/processes.js';

afterEach(cleanup);

/** A live process that is neither a master nor an agent, though its command line says "agent". */
function bystander(): ChildProcess {
  const p = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', 'master', 'agent'], { stdio: 'ignore' });
  trackPid(p.pid as number);
  return p;
}

describe('master data dir lock', () => {
  it('starts although LOCK names a live process that is not a master', async () => {
    const other = bystander();
    const dataDir = tempDir('master-lock-');
    mkdirSync(join(dataDir, 'events'), { recursive: true });
    writeFileSync(join(dataDir, 'events', 'LOCK'), String(other.pid));
    const master = await startMaster({ dataDir });
    expect(master.logs()).toContain('master listening on');
  });

  it('still refuses a second master on the same data dir, naming the first one', async () => {
    const dataDir = tempDir('master-lock-');
    const first = await startMaster({ dataDir });
    const second = await runCli(['master', '--listen', '127.0.0.1:0', '--data-dir', dataDir], { timeoutMs: 30_000 });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`is in use by process ${first.pid}`);
    // The first master serves on, and once it is gone the dir is free again.
    await first.stop('SIGKILL');
    const third = await startMaster({ dataDir });
    expect(third.logs()).toContain('master listening on');
  });
});

describe('agent data dir lock', () => {
  it('starts although agent.pid names a live process whose command line mentions "agent"', async () => {
    const master = await startMaster();
    const other = bystander();
    const dataDir = tempDir('agent-lock-');
    mkdirSync(join(dataDir, '.agent'), { recursive: true });
    writeFileSync(join(dataDir, '.agent', 'agent.pid'), `${other.pid}\n`);
    const agent = await startAgent({ id: 'a1', master: master.address, dataDir });
    expect(agent.logs()).toMatch(/listening on/);
  });

  it('still refuses a second agent on the same data dir, naming the first one', async () => {
    const master = await startMaster();
    const dataDir = tempDir('agent-lock-');
    const first = await startAgent({ id: 'a1', master: master.address, dataDir });
    const second = await runCli(['agent', '--id', 'a2', '--master', master.address, '--listen', '127.0.0.1:0', '--data-dir', dataDir], { timeoutMs: 30_000 });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`in use by another agent (pid ${first.pid})`);
  });
});

/** Whether another process can take the flock on `path` right now (util-linux's flock(1), itself). */
function freeForOthers(path: string, tool: string): boolean {
  const run = spawnSync(tool, ['--exclusive', '--nonblock', path, 'true']);
  return run.status === 0;
}

describe('lockFile', () => {
  const tool = flockTool();

  it('finds flock(1) on this host, and only at its fixed paths', () => {
    // The daemons take their locks through it (no native addon in their process): a Linux host
    // without it would silently fall back to fs-ext, which this suite must notice.
    expect(tool).toMatch(/^\/(usr\/)?bin\/flock$/);
    expect(flockTool(['/nonexistent/flock'])).toBeUndefined();
  });

  for (const how of ['flock(1)', 'fs-ext'] as const) {
    it(`${how}: holds the lock after the call returns, refuses a second taker and frees it on release`, () => {
      const path = join(tempDir('file-lock-'), 'lock');
      const use = how === 'flock(1)' ? tool : undefined;
      const first = lockFile(path, use);
      expect(first.held).toBe(true);
      // Another process is refused (with flock(1), the tool that took it has exited by now), and
      // so is another open of the file in this process.
      expect(freeForOthers(path, tool!)).toBe(false);
      const second = lockFile(path, use);
      expect(second).toEqual({ held: false, holderPid: process.pid });
      expect(readFileSync(path, 'utf8')).toBe(`${process.pid}\n`);
      if (first.held) first.release();
      expect(freeForOthers(path, tool!)).toBe(true);
      const third = lockFile(path, use);
      expect(third.held).toBe(true);
      if (third.held) third.release();
    });
  }

  it('names the file system error and leaves no descriptor open when flock(1) fails', () => {
    const path = join(tempDir('file-lock-'), 'lock');
    // Descriptors of this process open on the lock file (by path: other tests share the process).
    const openOnLock = (): string[] => readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === path;
      } catch {
        return false; // closed meanwhile
      }
    });
    // A tool that exits with an unexpected code stands for flock(1) failing (e.g. an I/O error).
    expect(() => lockFile(path, '/bin/false')).toThrow(/\/bin\/false could not lock the file: exit code 1/);
    expect(openOnLock()).toEqual([]);
    expect(() => lockFile(join(path, 'no-such-dir', 'lock'), tool)).toThrow(/ENOTDIR|ENOENT/);
    // The contrast: a held lock is one descriptor on the file.
    const held = lockFile(path, tool);
    expect(openOnLock()).toHaveLength(1);
    if (held.held) held.release();
    expect(openOnLock()).toEqual([]);
  });
});

describe('daemons hold their locks without a native addon', () => {
  it('an agent holding its data dir has not loaded fs-ext', async () => {
    const master = await startMaster();
    const dataDir = tempDir('agent-lock-');
    const agent = await startAgent({ id: 'a1', master: master.address, dataDir });
    // The lock is real (held by the agent's process: the flock(1) it ran is gone)...
    expect(freeForOthers(join(dataDir, '.agent', 'agent.pid'), flockTool()!)).toBe(false);
    // ...and no fs-ext module is mapped into the agent or the master.
    for (const pid of [agent.pid, master.pid]) expect(readFileSync(`/proc/${pid}/maps`, 'utf8')).not.toMatch(/fs-ext|fs_ext|\.node$/m);
  });
});
