import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';

/**
 * flock(2) is what holds a data dir, and Node has no file locking of its own. The lock is taken by
 * util-linux's flock(1) on a descriptor this process hands it: a flock belongs to the open file
 * description, which the tool shares with us, so the lock outlives the tool and lasts until this
 * process closes the file or dies. That keeps a native addon out of the daemon's own process: the
 * dynamic linker's look-ups of `fs-ext`'s symbols in node's symbol table cost an agent ~0.7 MB of
 * RSS for its whole life (BENCHMARKS.md, issue 17). Where no flock(1) is installed (macOS, an image
 * of node alone), the `fs-ext` addon takes the lock in-process.
 */
const FLOCK_TOOLS: readonly string[] = ['/usr/bin/flock', '/bin/flock'];
/** flock(1)'s exit code when the lock is held elsewhere: outside its own codes (1 and sysexits' 64–78). */
const BUSY_EXIT = 100;
/** A non-blocking flock never waits on a peer; this bounds a file system that does not answer. */
const TOOL_TIMEOUT_MS = 10_000;

interface FsExt {
  flockSync(fd: number, flags: 'exnb' | 'un'): void;
}
let fsExt: FsExt | undefined;

/**
 * Loaded on first use, and only where no flock(1) is found: the CLI and the storage-server share
 * modules with the daemons, and an image built with --ignore-scripts still serves storage nodes.
 */
function loadFsExt(): FsExt {
  if (fsExt === undefined) {
    try {
      fsExt = createRequire(import.meta.url)('fs-ext') as FsExt;
    } catch (err) {
      throw new Error(`data dir locking needs util-linux's flock(1) or the fs-ext native addon, and neither is available (run "npm rebuild fs-ext"): ${(err as Error).message}`, { cause: err });
    }
  }
  return fsExt;
}

/** Where flock(1) is, if installed; fixed paths, so no PATH entry decides what runs. */
export function flockTool(candidates: readonly string[] = FLOCK_TOOLS): string | undefined {
  return candidates.find((p) => existsSync(p));
}

/** Locks `fd` exclusively without waiting; false when another holder has it. */
function tryLock(fd: number, tool: string | undefined): boolean {
  if (tool === undefined) {
    try {
      loadFsExt().flockSync(fd, 'exnb');
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EWOULDBLOCK' || code === 'EAGAIN') return false;
      throw err;
    }
  }
  // No shell, no environment of ours (it may hold secrets), and the file as the tool's fd 3.
  const run = spawnSync(tool, ['--exclusive', '--nonblock', '--conflict-exit-code', String(BUSY_EXIT), '3'], {
    stdio: ['ignore', 'ignore', 'pipe', fd],
    env: {},
    timeout: TOOL_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    encoding: 'utf8',
  });
  if (run.status === 0) return true;
  if (run.status === BUSY_EXIT) return false;
  const why = run.error?.message ?? (run.stderr.trim().split('\n')[0] || (run.signal !== null ? `killed by ${run.signal}` : `exit code ${String(run.status)}`));
  throw new Error(`${tool} could not lock the file: ${why}`);
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
 * `tool` is flock(1)'s path, or undefined for the fs-ext addon (tests choose; callers leave the default).
 *
 * @throws the open or flock error (other than "would block"), e.g. EACCES or EROFS.
 */
export function lockFile(path: string, tool: string | undefined = flockTool()): HeldLock | LockBusy {
  // O_CLOEXEC is Node's default: the children a daemon spawns never inherit (and so never extend)
  // the lock; flock(1) gets the descriptor explicitly, and exits before this returns.
  const fd = openSync(path, 'a+', 0o600);
  let locked: boolean;
  try {
    locked = tryLock(fd, tool);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  if (!locked) {
    closeSync(fd);
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
