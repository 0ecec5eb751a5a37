import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * Who listens on a TCP port, read from Linux /proc. A health check on a node's port cannot tell the
 * node from a stranger holding the same port (another agent's node that won the bind): the process
 * platform asks here before it believes a SERVING answer. Reads this process's network namespace,
 * which the agent's own children share.
 */

/** The two tables of TCP sockets, IPv4 first: a node binds 127.0.0.1 unless told otherwise. */
const TCP_TABLES = ['/proc/net/tcp', '/proc/net/tcp6'] as const;

/**
 * Socket inodes listening on `port` (any address) in one table; undefined when it is unreadable.
 * Each read has the kernel walk the whole table (a few ms of system time on a busy host).
 */
function listeningInodes(table: string, port: number): Set<string> | undefined {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let text: string;
  try {
    text = readFileSync(table, 'utf8');
  } catch {
    return undefined;
  }
  const inodes = new Set<string>();
  for (const line of text.split('\n').slice(1)) {
    // Most lines are other ports: only those naming this one are split into columns.
    if (!line.includes(`${hexPort} `)) continue;
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    const cols = line.trim().split(/\s+/);
    if (cols.length > 9 && cols[3] === '0A' && cols[1]!.endsWith(hexPort)) inodes.add(cols[9]!);
  }
  return inodes;
}

function holdsAny(pid: number, inodes: ReadonlySet<string>): boolean {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m !== null && inodes.has(m[1]!)) return true;
    } catch {
      // closed meanwhile
    }
  }
  return false;
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
 * false = nobody or someone else listens there, undefined = cannot tell (no /proc). The IPv6 table
 * is read only when the IPv4 one does not already show the group listening: the answer is the
 * same, and a node on 127.0.0.1 is found at half the cost.
 */
export function ownsListener(pid: number, port: number): boolean | undefined {
  let readable = false;
  let members: number[] | undefined;
  for (const table of TCP_TABLES) {
    const inodes = listeningInodes(table, port);
    if (inodes === undefined) continue;
    readable = true;
    if (inodes.size === 0) continue;
    if (holdsAny(pid, inodes)) return true;
    members ??= groupMembers(pid);
    if (members.some((p) => holdsAny(p, inodes))) return true;
  }
  return readable ? false : undefined;
}
