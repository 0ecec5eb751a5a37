/**
 * Node port ranges for the grids tests start. Vitest runs test files in parallel (pool forks), and
 * agents left to the default range (50051+) would all race for the same ports. Each block handed out
 * here is used by nothing else in the run:
 * - the space 21000-32699 (below Linux's ephemeral ports 32768+, where port-0 listeners and outgoing
 *   connections land, and above 20000-20099 that in-process docker tests give their supervisors) is
 *   split into one region per parallel worker (`VITEST_POOL_ID`), so files running at the same time
 *   never share a port;
 * - within its region, a file hands out consecutive blocks, starting at a point that moves with each
 *   file (`VITEST_WORKER_ID`), so a file does not start where its predecessor in the slot did;
 * - a block with any port already listening (a leftover of an earlier file) is skipped.
 * Master and agent listeners use port 0 (ephemeral), so they never fall into these blocks.
 */
import { readFileSync } from 'node:fs';

const SPACE_START = 21_000;
const SPACE_END = 32_700;
/** Parallel workers the space is split for; vitest.config.ts runs 2. */
const SLOTS = 4;
const BLOCK = 50;
const REGION = Math.floor((SPACE_END - SPACE_START) / SLOTS / BLOCK) * BLOCK;

function envInt(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

const slot = (envInt('VITEST_POOL_ID', 1) - 1) % SLOTS;
const regionStart = SPACE_START + slot * REGION;
const blocksPerRegion = REGION / BLOCK;
/** Next block (index within the region) this file hands out. */
let next = (envInt('VITEST_WORKER_ID', 1) * 7) % blocksPerRegion;

/** TCP ports something listens on now (IPv4 and IPv6), from /proc; empty where /proc is missing. */
function listeningPorts(): Set<number> {
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 3 && cols[3] === '0A') ports.add(parseInt(cols[1]!.slice(cols[1]!.lastIndexOf(':') + 1), 16));
    }
  }
  return ports;
}

/** A port range no other grid of this test run uses. */
export interface PortBlock {
  readonly start: number;
  /** Inclusive. */
  readonly end: number;
  readonly size: number;
}

/**
 * `size` consecutive ports (rounded up to whole blocks of 50 inside this worker's region) that no
 * other grid of the run uses and nothing listens on now. @throws when the region is exhausted
 */
export function portBlock(size = BLOCK): PortBlock {
  const blocks = Math.ceil(size / BLOCK);
  const busy = listeningPorts();
  for (let tried = 0; tried < blocksPerRegion; tried++) {
    if (next + blocks > blocksPerRegion) next = 0;
    const start = regionStart + next * BLOCK;
    next += blocks;
    let free = true;
    for (let p = start; p < start + size && free; p++) free = !busy.has(p);
    if (free) return { start, end: start + size - 1, size };
  }
  throw new Error(`no free block of ${size} ports left in ${regionStart}-${regionStart + REGION - 1}`);
}

/** `[storage]` keys of agent-config.toml giving an agent its own block. */
export function storagePortConfig(size = BLOCK): { default_port_range_start: number; port_range_size: number } {
  const b = portBlock(size);
  return { default_port_range_start: b.start, port_range_size: b.size };
}
