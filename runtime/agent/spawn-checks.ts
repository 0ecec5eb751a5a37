import { realpathSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import { GridError } from '../errors.js';

/**
 * Checks a spawn request must pass before anything is started: node id, port, storage path. Each
 * refusal is a GridError whose message names the request field.
 */

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Refuses ids that could not be a directory name or a label. */
export function checkNodeId(nodeId: string): void {
  if (!NODE_ID.test(nodeId)) {
    throw new GridError('INVALID_ARGUMENT', `node_id: "${nodeId}" is not valid (letters, digits, . _ -; max 63; no leading punctuation)`, {
      field: 'node_id',
      nodeId,
    });
  }
}

/** Refuses privileged and impossible ports. */
export function checkPortRange(port: number, nodeId: string): void {
  if (!Number.isInteger(port) || port < 1024 || port > 65535) {
    throw new GridError('PORT_OUT_OF_RANGE', `port ${port} is out of range 1024-65535`, { field: 'port', nodeId });
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

/** Deepest existing ancestor of `p`, resolved through symlinks. */
function realpathOfExisting(p: string): string {
  let cur = p;
  const rest: string[] = [];
  for (;;) {
    try {
      return resolve(realpathSync(cur), ...rest.reverse());
    } catch {
      const parent = dirname(cur);
      if (parent === cur) return p;
      rest.push(cur.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
      cur = parent;
    }
  }
}

function under(child: string, root: string): boolean {
  return child.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The absolute storage path of a node: empty -> `<dataPath>/nodes/<nodeId>`; relative -> under
 * dataPath; absolute -> as given. It must stay under dataPath both lexically (no `..` escape) and
 * after resolving symlinks of the existing part (no symlink escape).
 */
export function resolveStoragePath(dataPath: string, requested: string, nodeId: string): string {
  const root = resolve(dataPath);
  const path = requested === '' ? resolve(root, 'nodes', nodeId) : isAbsolute(requested) ? resolve(requested) : resolve(root, requested);
  const refuse = (): never => {
    throw new GridError('PATH_OUTSIDE_DATA_DIR', `storage_path "${requested}" is outside the data dir ${root}`, { field: 'storage_path', nodeId });
  };
  if (!under(path, root)) refuse();
  if (!under(realpathOfExisting(path), realpathOfExisting(root))) refuse();
  // The agent keeps its own state under <data>/.agent; a node must not write there.
  if (under(path, resolve(root, '.agent')) || path === resolve(root, '.agent')) refuse();
  return path;
}
