import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from 'node:fs';

/**
 * Who listens on a TCP port, read from Linux /proc. A health check on a node's port cannot tell the
 * node from a stranger holding the same port (another agent's node that won the bind): the process
 * platform asks here before it believes a SERVING answer. Reads this process's network namespace,
 * which the agent's own children share.
 */

/** The two tables of TCP sockets, IPv4 first: a node binds 127.0.0.1 unless told otherwise. */
const TCP_TABLES = ['/proc/net/tcp', '/proc/net/tcp6'] as const;

/** Bytes read from a table at a time: a few hundred sockets' lines. */
const CHUNK_BYTES = 64 * 1024;

/**
 * Calls `visit` with the inode of each socket listening on `port` (any address) in `table`, in
 * table order, until it returns true; returns whether one did, or undefined when the table is
 * unreadable. The kernel writes the table as it is read, listening sockets first, so stopping at
 * the node's own listener spares it the walk over every bucket of the connection hash: reading the
 * whole table took ~1.3 ms of a spawn with a few dozen sockets open, the first chunk ~0.45 ms.
 */
function scanListeners(table: string, port: number, visit: (inode: string) => boolean): boolean | undefined {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let fd: number;
  try {
    fd = openSync(table, 'r');
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    let rest = '';
    let header = true;
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK_BYTES, null);
      const lines = (rest + buf.toString('latin1', 0, n)).split('\n');
      // The last piece is a line still being read, until the end of the table.
      rest = n === 0 ? '' : lines.pop()!;
      for (const line of lines) {
        if (header) {
          header = false;
          continue;
        }
        // Most lines are other ports: only those naming this one are split into columns.
        if (!line.includes(`${hexPort} `)) continue;
        // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
        const cols = line.trim().split(/\s+/);
        if (cols.length > 9 && cols[3] === '0A' && cols[1]!.endsWith(hexPort) && visit(cols[9]!)) return true;
      }
      if (n === 0) return false;
    }
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Inodes of the sockets `pid` holds open (empty when its descriptors cannot be read). */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m !== null) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** Pids whose process group is `pgid` (a node and whatever it forked), `pgid` itself excluded. */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === pgid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after `(comm)`: state ppid pgrp ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * Whether the listener on `port` belongs to process `pid` or its process group: true = it does,
 * false = nobody or someone else listens there, undefined = cannot tell (no /proc). The group's
 * sockets are read only when the node itself holds none of the listeners, and the IPv6 table only
 * when the IPv4 one does not already show the group listening: the answer is the same, and a node
 * on 127.0.0.1 is found at a fraction of the cost.
 */
export function ownsListener(pid: number, port: number): boolean | undefined {
  let own: Set<string> | undefined;
  let group: Set<string> | undefined;
  const held = (inode: string): boolean => {
    own ??= socketInodes(pid);
    if (own.has(inode)) return true;
    group ??= new Set(groupMembers(pid).flatMap((p) => [...socketInodes(p)]));
    return group.has(inode);
  };
  let readable = false;
  for (const table of TCP_TABLES) {
    const found = scanListeners(table, port, held);
    if (found === true) return true;
    if (found === false) readable = true;
  }
  return readable ? false : undefined;
}
