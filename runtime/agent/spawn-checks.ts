import { lstatSync, readlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { isAbsolute, resolve, sep } from 'node:path';
import { RuntimeError } from '../errors.js';

/**
 * Checks a spawn request must pass before anything is started: node id, port, storage path. Each
 * refusal is a GridError whose message names the request field.
 */

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Longest storage path accepted, in bytes: Linux PATH_MAX (4096) less the terminating NUL. */
export const STORAGE_PATH_MAX_BYTES = 4095;

/** Longest single path component, in bytes: Linux NAME_MAX. */
export const PATH_COMPONENT_MAX_BYTES = 255;

/** Refuses ids that could not be a directory name or a label. */
export function checkNodeId(nodeId: string): void {
  if (!NODE_ID.test(nodeId)) {
    throw new RuntimeError('INVALID_ARGUMENT', `node_id: "${nodeId}" is not valid (letters, digits, . _ -; max 63; no leading punctuation)`, {
      field: 'node_id',
      nodeId,
    });
  }
}

/** Refuses privileged and impossible ports. */
export function checkPortRange(port: number, nodeId: string): void {
  if (!Number.isInteger(port) || port < 1024 || port > 65535) {
    throw new RuntimeError('PORT_OUT_OF_RANGE', `port ${port} is out of range 1024-65535`, { field: 'port', nodeId });
  }
}

/** True when nothing listens on 127.0.0.1:`port` (binds it briefly to find out). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolveFree) => {
    const srv = createServer();
    srv.once('error', () => resolveFree(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolveFree(true)));
  });
}

/** A short, printable quote of caller input: a hostile path must not flood the error or the log. */
function quote(s: string): string {
  const head = s.length > 80 ? `${s.slice(0, 80)}...` : s;
  return JSON.stringify(head);
}

/** Most components a storage path may have, data dir included. */
export const STORAGE_PATH_MAX_DEPTH = 128;

/** Symlinks followed while resolving one path before giving up, as the kernel does (ELOOP). */
const MAX_SYMLINK_HOPS = 40;

/**
 * `p` with every symlink of its existing part resolved; the part that does not exist yet is
 * appended as written. Undefined when a symlink on the way dangles, loops, or leads deeper than
 * {@link STORAGE_PATH_MAX_DEPTH}: what the path would reach is then unknowable or unreasonable,
 * so callers refuse it.
 *
 * One forward walk, one lstat per component, links expanded in place with readlink: the work is
 * linear in the components visited, and each lstat is on a path at most STORAGE_PATH_MAX_DEPTH
 * deep, so the kernel's own per-lookup walk stays bounded too. (A backward walk retrying realpath
 * at every ancestor was quadratic and froze the agent on long paths; realpath itself re-walks the
 * whole prefix at each component.)
 */
export function canonicalPath(p: string): string | undefined {
  // Components still to visit, next one last.
  const todo = resolve(p).split(sep).filter((c) => c !== '').reverse();
  let cur = '';
  const lengths: number[] = [];
  let hops = 0;
  while (todo.length > 0) {
    const part = todo.pop()!;
    if (part === '.') continue;
    if (part === '..') {
      // `cur` has no symlinks left in it, so its parent is its lexical parent.
      cur = cur.slice(0, lengths.pop() ?? 0);
      continue;
    }
    lengths.push(cur.length);
    cur = `${cur}${sep}${part}`;
    if (lengths.length > STORAGE_PATH_MAX_DEPTH) return undefined;
    let isLink: boolean;
    try {
      isLink = lstatSync(cur).isSymbolicLink();
    } catch {
      // Missing (or unreadable): nothing below it exists for us, so the rest is as written.
      return resolve(cur, ...todo.reverse());
    }
    if (!isLink) continue;
    if (++hops > MAX_SYMLINK_HOPS) return undefined;
    let target: string;
    try {
      target = readlinkSync(cur);
    } catch {
      return undefined;
    }
    cur = cur.slice(0, lengths.pop() ?? 0);
    if (isAbsolute(target)) {
      cur = '';
      lengths.length = 0;
    }
    const expanded = target.split(sep).filter((c) => c !== '');
    if (todo.length + expanded.length > STORAGE_PATH_MAX_DEPTH * 4) return undefined;
    for (let i = expanded.length - 1; i >= 0; i--) todo.push(expanded[i]!);
  }
  return cur === '' ? sep : cur;
}

function under(child: string, root: string): boolean {
  return child.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * Refuses what cannot be a path before any work is done on it: over PATH_MAX bytes, a component
 * over NAME_MAX, a NUL or other control character (never a real directory name, and they corrupt
 * logs), and `:` (it separates fields of a Docker bind and would let the path add mount options).
 */
function checkPathText(requested: string, nodeId: string): void {
  const bad = (why: string): never => {
    throw new RuntimeError('INVALID_ARGUMENT', `storage_path ${quote(requested)}: ${why}`, { field: 'storage_path', nodeId });
  };
  // Length first and on the string itself, so a 10 MB path costs nothing more than a short one.
  if (requested.length > STORAGE_PATH_MAX_BYTES) bad(`is ${requested.length} characters long; the limit is ${STORAGE_PATH_MAX_BYTES} (PATH_MAX) bytes`);
  const bytes = Buffer.byteLength(requested);
  if (bytes > STORAGE_PATH_MAX_BYTES) bad(`is ${bytes} bytes long; the limit is ${STORAGE_PATH_MAX_BYTES} (PATH_MAX)`);
  if (/[\u0000-\u001f\u007f]/.test(requested)) bad('contains a control character');
  if (requested.includes(':')) bad('contains ":", which Docker bind mounts cannot carry');
  for (const part of requested.split('/')) {
    if (Buffer.byteLength(part) > PATH_COMPONENT_MAX_BYTES) bad(`has a component over ${PATH_COMPONENT_MAX_BYTES} bytes (NAME_MAX)`);
  }
}

/**
 * The absolute storage path of a node: empty -> `<dataPath>/nodes/<nodeId>`; relative -> under
 * dataPath; absolute -> as given. It must stay under dataPath and out of `<dataPath>/.agent` both
 * lexically (no `..` escape) and after resolving symlinks of its existing part (no symlink escape,
 * no symlink into the agent's own state).
 */
export function resolveStoragePath(dataPath: string, requested: string, nodeId: string): string {
  checkPathText(requested, nodeId);
  const root = resolve(dataPath);
  const path = requested === '' ? resolve(root, 'nodes', nodeId) : isAbsolute(requested) ? resolve(requested) : resolve(root, requested);
  const refuse = (why: string): never => {
    throw new RuntimeError('PATH_OUTSIDE_DATA_DIR', `storage_path ${quote(requested)} ${why}`, { field: 'storage_path', nodeId });
  };
  const depth = path.split(sep).length - 1;
  if (depth > STORAGE_PATH_MAX_DEPTH) {
    throw new RuntimeError('INVALID_ARGUMENT', `storage_path ${quote(requested)}: resolves to ${depth} components; the limit is ${STORAGE_PATH_MAX_DEPTH}`, {
      field: 'storage_path',
      nodeId,
    });
  }
  const agentDir = resolve(root, '.agent');
  if (!under(path, root)) refuse(`is outside the data dir ${root}`);
  // The agent keeps its own state under <data>/.agent; a node must not write there.
  if (path === agentDir || under(path, agentDir)) refuse(`is inside the agent's state dir ${agentDir}`);
  const realRoot = canonicalPath(root);
  const real = canonicalPath(path);
  if (realRoot === undefined) return refuse(`cannot be checked: the data dir ${root} goes through a dangling, looping or too deep symlink`);
  if (real === undefined) return refuse('goes through a dangling, looping or too deep symlink');
  if (!under(real, realRoot)) refuse(`resolves through a symlink to ${real}, outside the data dir ${realRoot}`);
  const realAgentDir = resolve(realRoot, '.agent');
  if (real === realAgentDir || under(real, realAgentDir)) refuse(`resolves through a symlink into the agent's state dir ${realAgentDir}`);
  return path;
}

/** A node's storage path, as the overlap check needs it. */
export interface StoragePathOwner {
  readonly nodeId: string;
  readonly storagePath: string;
}

/**
 * Refuses a storage path equal to, inside, or containing another node's: a node owns its whole
 * directory tree (it may create symlinks there), so any nesting lets one node reach another's
 * data. Compared both as written and with symlinks resolved.
 */
export function checkStoragePathOverlap(storagePath: string, nodeId: string, others: Iterable<StoragePathOwner>): void {
  const real = canonicalPath(storagePath);
  for (const other of others) {
    if (other.nodeId === nodeId) continue;
    const otherReal = canonicalPath(other.storagePath);
    const pairs: Array<[string, string]> = [[storagePath, other.storagePath]];
    if (real !== undefined && otherReal !== undefined) pairs.push([real, otherReal]);
    for (const [mine, theirs] of pairs) {
      const how = mine === theirs ? 'is the storage path of' : under(mine, theirs) ? 'is inside the storage path of' : under(theirs, mine) ? 'contains the storage path of' : undefined;
      if (how !== undefined) {
        throw new RuntimeError('INVALID_ARGUMENT', `storage_path ${storagePath} ${how} node "${other.nodeId}" (${other.storagePath}); nodes' storage paths must not nest`, {
          field: 'storage_path',
          nodeId,
          otherNodeId: other.nodeId,
        });
      }
    }
  }
}
