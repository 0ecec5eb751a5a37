import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { lockFile, type HeldLock } from '../common/file-lock.js';
import { ConfigError } from '../errors.js';

/**
 * One agent per data dir: two agents sharing one would both adopt the same nodes and fight over
 * them. The lock is an flock on `.agent/agent.pid` held for the agent's life, so the kernel drops
 * it when the agent dies however it dies (kill -9 included), and a pid left in the file, now
 * belonging to some unrelated process, never locks anyone out. The pid written there only names
 * the holder in the refusal.
 */
export class DataDirLock {
  private readonly path: string;
  private readonly dataPath: string;
  private lock: HeldLock | undefined;

  constructor(dataPath: string) {
    const dir = join(dataPath, '.agent');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.dataPath = dataPath;
    this.path = join(dir, 'agent.pid');
  }

  /** @throws ConfigError naming --data-dir when another live agent holds the dir. */
  acquire(): void {
    if (this.lock !== undefined) return;
    const got = lockFile(this.path);
    if (!got.held) {
      const who = got.holderPid !== undefined ? ` (pid ${got.holderPid})` : '';
      throw new ConfigError('--data-dir', `${this.dataPath} is in use by another agent${who}`);
    }
    this.lock = got;
  }

  /** Drops the lock; the file stays (see `lockFile` for why it is never deleted). */
  release(): void {
    this.lock?.release();
    this.lock = undefined;
  }
}
