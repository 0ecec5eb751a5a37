import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * flock(2) from the `fs-ext` native addon: Node has no file locking of its own. Only the
 * non-blocking calls are used, so no libuv pool thread ever waits on a lock.
 */
interface FsExt {
  flockSync(fd: number, flags: 'exnb' | 'un'): void;
}
let fsExt: FsExt | undefined;

/**
 * Loaded on first use, not at import: the CLI and the storage-server share modules with the
 * daemons, and only a master or an agent needs the addon (an image built with --ignore-scripts
 * still serves storage nodes).
 */
function flock(): FsExt {
  if (fsExt === undefined) {
    try {
      fsExt = createRequire(import.meta.url)('fs-ext') as FsExt;
    } catch (err) {
      throw new Error(`data dir locking needs the fs-ext native addon, which did not load (run "npm rebuild fs-ext"): ${(err as Error).message}`, { cause: err });
    }
  }
  return fsExt;
}

/** Why {@link lockFile} did not get the lock. */
export interface LockBusy {
  readonly held: false;
  /** Pid the holder wrote into the file (diagnostics only: the lock itself is the flock). */
  readonly holderPid: number | undefined;
}

/** A held lock: release it, or let the process exit (the kernel drops it with the descriptor). */
export interface HeldLock {
  readonly held: true;
  release(): void;
}

/**
 * Takes an exclusive advisory lock on `path` (created 0600 if missing) without waiting.
 *
 * The operating system owns the lock, not the file's content: it is released when the holder
 * exits in any way (kill -9 included), and a pid left in the file never locks anyone out, whatever
 * process that pid belongs to now. Our pid is written into the file after locking only so a
 * refused caller can say who holds it. The file is never deleted: unlinking a locked file would
 * let a later opener lock a fresh inode while someone still holds the old one.
 *
 * @throws the open or flock error (other than "would block"), e.g. EACCES or EROFS.
 */
export function lockFile(path: string): HeldLock | LockBusy {
  const lib = flock();
  // O_CLOEXEC is Node's default: spawned children never inherit (and so never extend) the lock.
  const fd = openSync(path, 'a+', 0o600);
  try {
    lib.flockSync(fd, 'exnb');
  } catch (err) {
    closeSync(fd);
    if ((err as NodeJS.ErrnoException).code !== 'EWOULDBLOCK' && (err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    return { held: false, holderPid: readPid(path) };
  }
  try {
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
  } catch {
    // The pid is a courtesy for error messages; the lock holds without it (e.g. on a full disk).
  }
  let open = true;
  return {
    held: true,
    release: () => {
      if (!open) return;
      open = false;
      closeSync(fd); // closing the last descriptor drops the flock
    },
  };
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
