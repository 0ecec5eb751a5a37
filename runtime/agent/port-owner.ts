import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * Who listens on a TCP port, read from Linux /proc. A health check on a node's port cannot tell the
 * node from a stranger holding the same port (another agent's node that won the bind): the process
 * platform asks here before it believes a SERVING answer. Reads this process's network namespace,
 * which the agent's own children share.
 */

/** Socket inodes listening on `port` (any address, IPv4 and IPv6); undefined when /proc is unreadable. */
function listeningInodes(port: number): Set<string> | undefined {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  let readable = false;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    readable = true;
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && cols[3] === '0A' && cols[1]!.endsWith(hexPort)) inodes.add(cols[9]!);
    }
  }
  return readable ? inodes : undefined;
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
 * false = nobody or someone else listens there, undefined = cannot tell (no /proc).
 */
export function ownsListener(pid: number, port: number): boolean | undefined {
  const inodes = listeningInodes(port);
  if (inodes === undefined) return undefined;
  if (inodes.size === 0) return false;
  if (holdsAny(pid, inodes)) return true;
  return groupMembers(pid).some((p) => holdsAny(p, inodes));
}
