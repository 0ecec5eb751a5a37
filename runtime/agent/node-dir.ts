/**
 * Creating a node's storage directory and opening its `node.log` without following symlinks.
 * A node owns the contents of its storage directory: it can plant `node.log -> /etc/passwd` or a
 * symlinked sub-directory, and the agent (often root) must never write through them.
 */
import { closeSync, constants, fchownSync, fstatSync, lstatSync, mkdirSync, openSync, unlinkSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { RuntimeError } from '../errors.js';
import type { Logger } from '../common/logger.js';

/** Owner to give a freshly made storage directory (the uid the node runs as). */
export interface DirOwner {
  readonly uid: number;
  readonly gid: number;
}

/**
 * Creates `storagePath` and any missing directory between the data dir and it, one component at
 * a time: each one must then be a real directory (lstat), never a symlink or a file, so nothing
 * is created through a link a node planted. The data dir itself is taken as configured. When
 * `owner` is given, the storage directory itself is handed to that uid (opened with O_NOFOLLOW and
 * changed by descriptor), so a node running as another user can write it.
 * @throws GridError PATH_OUTSIDE_DATA_DIR naming `storage_path` when a component is not a directory.
 */
export function makeNodeDir(dataPath: string, storagePath: string, nodeId: string, owner?: DirOwner): void {
  const root = resolve(dataPath);
  const rel = relative(root, resolve(storagePath));
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    throw new RuntimeError('PATH_OUTSIDE_DATA_DIR', `storage_path ${storagePath} is not under the data dir ${root}`, { field: 'storage_path', nodeId });
  }
  mkdirSync(root, { recursive: true });
  let cur = root;
  for (const part of rel.split(sep)) {
    cur = join(cur, part);
    try {
      // mkdir never follows a symlink in its last component: an existing link gives EEXIST.
      mkdirSync(cur, { mode: 0o755 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const st = lstatSync(cur);
    if (!st.isDirectory()) {
      throw new RuntimeError(
        'PATH_OUTSIDE_DATA_DIR',
        `storage_path ${storagePath}: ${cur} is ${st.isSymbolicLink() ? 'a symlink' : 'not a directory'}; node directories are never created through one`,
        { field: 'storage_path', nodeId },
      );
    }
  }
  if (owner !== undefined) chownDir(storagePath, owner);
}

function chownDir(dir: string, owner: DirOwner): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    const st = fstatSync(fd);
    if (st.uid !== owner.uid || st.gid !== owner.gid) fchownSync(fd, owner.uid, owner.gid);
  } finally {
    closeSync(fd);
  }
}

const LOG_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Why an open `node.log` descriptor is not a log the agent may append to, or undefined if it is. */
function unsafeLog(fd: number): string | undefined {
  const st = fstatSync(fd);
  if (!st.isFile()) return 'not a regular file';
  // A hard link to someone else's file looks regular; the link count and owner give it away.
  if (st.nlink !== 1) return `a hard link (${st.nlink} links)`;
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return `owned by uid ${st.uid}, not the agent's ${uid}`;
  return undefined;
}

/**
 * Opens `<storagePath>/node.log` for appending and returns its descriptor. Opened with O_NOFOLLOW
 * (a planted symlink fails instead of being followed) and O_NONBLOCK (a planted FIFO fails instead
 * of blocking the agent), then checked by descriptor: a regular file with one link, owned by the
 * agent. Anything else is not the node's log: its name is removed (unlink never follows a link,
 * so the target is untouched) and a fresh file is created exclusively.
 * @throws GridError SPAWN_FAILED when no safe log file can be made.
 */
export function openNodeLog(storagePath: string, nodeId: string, logger: Logger): number {
  const path = join(storagePath, 'node.log');
  let why: string;
  try {
    const fd = openSync(path, LOG_FLAGS, 0o644);
    const unsafe = unsafeLog(fd);
    if (unsafe === undefined) return fd;
    closeSync(fd);
    why = unsafe;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // ELOOP: a symlink (O_NOFOLLOW). ENXIO: a FIFO nobody reads. EISDIR: a directory.
    if (code !== 'ELOOP' && code !== 'ENXIO' && code !== 'EISDIR') throw err;
    why = code === 'ELOOP' ? 'a symlink' : code === 'ENXIO' ? 'a FIFO' : 'a directory';
  }
  logger.warn({ nodeId, path, why }, 'node.log is not a plain file of the agent; replacing it without touching what it points to');
  try {
    const st = lstatSync(path);
    if (st.isDirectory()) throw new Error(`${path} is a directory`);
    unlinkSync(path);
    const fd = openSync(path, LOG_FLAGS | constants.O_EXCL, 0o644);
    const unsafe = unsafeLog(fd);
    if (unsafe !== undefined) {
      closeSync(fd);
      throw new Error(`${path} is ${unsafe}`);
    }
    return fd;
  } catch (err) {
    throw new RuntimeError('SPAWN_FAILED', `node "${nodeId}": cannot open ${path} safely (${why}): ${(err as Error).message}`, { nodeId }, { cause: err });
  }
}
