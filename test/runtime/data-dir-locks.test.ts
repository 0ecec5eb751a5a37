/**
 * Data dir locks are operating-system locks (flock), not pid files: a pid left in a lock file that
 * now belongs to some unrelated live process must not keep a master or an agent from starting,
 * while two live masters (or agents) on one data dir still exclude each other.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
