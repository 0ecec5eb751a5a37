/**
 * What the three code-cache writers share (scripts/storage-code-cache.mjs, agent-code-cache.mjs,
 * cli-code-cache.mjs): each warms its bundle in its own process against throw-away data, a master
 * of this build where it needs one, then saves the cache V8 made beside the bundle. A writer that
 * fails says why, exits 1 and leaves nothing behind; scripts/bundle.mjs then only warns (without a
 * cache a bundle starts slower and behaves the same: runtime/common/code-cache.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
/** Where scripts/bundle.mjs writes the bundles, and the writers their caches. */
export const BUNDLE_OUT = join(root, 'dist', 'runtime', 'bundle');

/**
 * One writer's run. `name` prefixes its messages and names its data dir; after `deadlineMs` it
 * fails on its own. The CLI writer replaces process.exit to catch its calls' exits: the exit kept
 * here is the real one.
 */
export function cacheWriter(name, deadlineMs = 30_000) {
  const exit = process.exit.bind(process);
  const data = mkdtempSync(join(tmpdir(), `sg-${name}-`));
  let master;
  /** Stops the master (if any), removes the data dir and exits; the promise never settles. */
  const finish = (code, why) => {
    if (why !== undefined) process.stderr.write(`${name}: ${why}\n`);
    const end = () => {
      rmSync(data, { recursive: true, force: true });
      exit(code);
    };
    if (master === undefined || master.exitCode !== null || master.signalCode !== null) end();
    else {
      // The data dir goes once the master is gone: it writes there until then.
      master.removeAllListeners('exit');
      master.once('exit', end);
      master.kill('SIGKILL');
    }
    return new Promise(() => {});
  };
  setTimeout(() => finish(1, `not done within ${deadlineMs / 1000} s`), deadlineMs).unref();
  return {
    /** The throw-away data dir, removed on the way out. */
    data,
    /** Fails the run with `why`. */
    fail: (why) => finish(1, why),
    /**
     * Starts a master of this build on 127.0.0.1:0 (a child: it serves until the writer exits).
     * @returns the address it listens on, from its log, which is shown only if it fails.
     */
    startMaster() {
      master = spawn(process.execPath, [join(root, 'bin', 'sutra-grid.js'), 'master', '--listen', '127.0.0.1:0', '--data-dir', join(data, 'master')], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LOG_LEVEL: 'info' },
      });
      let log = '';
      return new Promise((resolve) => {
        const read = (chunk) => {
          log += String(chunk);
          const m = /master listening on ([^\s"]+)/.exec(log);
          if (m) resolve(m[1]);
        };
        master.stdout.on('data', read);
        master.stderr.on('data', read);
        master.once('exit', (code, signal) => finish(1, `the master exited (${code ?? signal}) before the cache was written:\n${log}`));
      });
    },
    /** Writes `bundle`'s cache as `cacheName` beside the bundles, whole or not at all. */
    write(bundle, cacheName) {
      const file = join(BUNDLE_OUT, cacheName);
      writeFileSync(`${file}.tmp`, bundle.createCache());
      renameSync(`${file}.tmp`, file);
    },
    /** {@link write}, then exits 0. */
    save(bundle, cacheName) {
      this.write(bundle, cacheName);
      return finish(0);
    },
  };
}
