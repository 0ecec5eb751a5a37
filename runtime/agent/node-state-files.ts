import { closeSync, constants, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import type { NodeLaunchSpec } from './platform.js';

/**
 * One small JSON file per running node under `<data_path>/.agent/nodes/`: what was launched and
 * its pid. It is what lets an agent restarted after `kill -9` find its nodes still running and
 * adopt them instead of spawning duplicates.
 */
export interface NodeStateRecord {
  readonly spec: NodeLaunchSpec;
  readonly pid: number;
  /** argv the node was started with (command first), compared with /proc/<pid>/cmdline on adopt. */
  readonly argv: readonly string[];
  readonly startedAtMs: number;
  readonly containerId?: string;
}

export class NodeStateFiles {
  readonly dir: string;

  constructor(dataPath: string) {
    this.dir = join(dataPath, '.agent', 'nodes');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    // The agent, often root, writes here: a symlink in place of the dir would redirect its writes.
    if (!lstatSync(this.dir).isDirectory()) throw new ConfigError('[storage].data_path', `${this.dir} is not a directory (a symlink?); refusing to keep node state there`);
  }

  private path(nodeId: string): string {
    return join(this.dir, `${encodeURIComponent(nodeId)}.json`);
  }

  /** Writes atomically (temp file + rename) so a crash never leaves half a record. */
  write(rec: NodeStateRecord): void {
    const path = this.path(rec.spec.nodeId);
    // O_NOFOLLOW: a link planted as the temp name fails the write instead of redirecting it.
    const fd = openSync(`${path}.tmp`, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
    try {
      writeSync(fd, JSON.stringify(rec));
    } finally {
      closeSync(fd);
    }
    renameSync(`${path}.tmp`, path);
  }

  remove(nodeId: string): void {
    rmSync(this.path(nodeId), { force: true });
  }

  /** Every readable record; unreadable ones are removed (they cannot be adopted anyway). */
  readAll(): NodeStateRecord[] {
    const out: NodeStateRecord[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const path = join(this.dir, name);
      try {
        const rec = JSON.parse(readFileSync(path, 'utf8')) as NodeStateRecord;
        if (typeof rec.pid === 'number' && typeof rec.spec?.nodeId === 'string' && Array.isArray(rec.argv)) out.push(rec);
        else rmSync(path, { force: true });
      } catch {
        rmSync(path, { force: true });
      }
    }
    return out;
  }
}
