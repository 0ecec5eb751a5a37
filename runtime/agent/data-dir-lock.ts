import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { pidAlive } from './process-platform.js';

/**
 * One agent per data dir: two agents sharing one would both adopt the same nodes and fight over
 * them. The lock is a pid file; a stale one (its process gone, e.g. after kill -9) is taken over.
 */
export class DataDirLock {
  private readonly path: string;
  private held = false;

  constructor(dataPath: string) {
    const dir = join(dataPath, '.agent');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.path = join(dir, 'agent.pid');
  }

  /** @throws ConfigError naming --data-dir when a live agent holds the dir. */
  acquire(): void {
    let other = 0;
    try {
      other = Number(readFileSync(this.path, 'utf8').trim());
    } catch {
      // no lock yet
    }
    if (other > 0 && other !== process.pid && pidAlive(other) && isAgentProcess(other)) {
      throw new ConfigError('--data-dir', `${this.path.slice(0, -'/.agent/agent.pid'.length)} is in use by another agent (pid ${other})`);
    }
    writeFileSync(this.path, `${process.pid}\n`, { mode: 0o600 });
    this.held = true;
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    rmSync(this.path, { force: true });
  }
}

/** A recycled pid of some unrelated process must not lock us out. */
function isAgentProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('agent');
  } catch {
    return true;
  }
}
