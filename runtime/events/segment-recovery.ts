import { open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HEADER_BYTES, MAX_BODY_BYTES, scanRecord } from './record-codec.js';
import { Segment, parseSegmentFileName, segmentFileName } from './segment.js';

/** What recovery did on open; `damaged` false (and every count 0) after a clean shutdown or a plain crash. */
export interface RecoveryReport {
  /** Segments in use after recovery. */
  readonly segments: number;
  /** Bytes of a torn last record cut off the active segment (a crash mid-write; not damage). */
  readonly truncatedBytes: number;
  /** True when anything was lost or set aside: emit an event and tell the operator. */
  readonly damaged: boolean;
  /** Files set aside (renamed to `*.damaged`), never read again. */
  readonly damagedSegments: readonly string[];
  /** Records read back from damaged files past their first bad byte (what a cut there would have lost). */
  readonly recoveredRecords: number;
  /** Indexes that no longer exist and will never be handed out again. */
  readonly lostIndexes: number;
  /** The high-water mark found on open (0 when there was none). */
  readonly highWaterMark: number;
  /** The index the next event gets. */
  readonly nextIndex: number;
  /** One line per finding, naming the file and byte offsets. */
  readonly details: readonly string[];
}

/** A run of records with contiguous indexes, adjacent on disk. */
interface Run {
  readonly firstIndex: number;
  readonly startOff: number;
  endOff: number;
  readonly offsets: number[];
  readonly times: number[];
}

/** What scanning a segment file found. */
export interface SegmentScan {
  readonly runs: readonly Run[];
  /** Byte ranges `[start, end)` that are not valid records. */
  readonly bad: ReadonlyArray<{ readonly start: number; readonly end: number }>;
}

/**
 * Finds every valid record in `buf` with an index >= `minIndex` and increasing. Where a record is
 * bad it resyncs byte by byte: the CRC framing lets it recognise the next valid record, and a
 * cheap check (a plausible length, an index that is a larger safe integer) spares the CRC at
 * nearly every offset of a damaged stretch.
 */
export function scanSegment(buf: Buffer, minIndex: number): SegmentScan {
  const runs: Run[] = [];
  const bad: Array<{ start: number; end: number }> = [];
  let next = minIndex;
  let run: Run | undefined;
  let badStart = -1;
  let off = 0;
  while (off < buf.length) {
    const rec = plausible(buf, off, next) ? scanRecord(buf, off) : null;
    if (rec === null || rec.index < next || !Number.isSafeInteger(rec.index)) {
      if (badStart < 0) badStart = off;
      off++;
      continue;
    }
    if (badStart >= 0) {
      bad.push({ start: badStart, end: off });
      badStart = -1;
    }
    if (run === undefined || run.endOff !== off || rec.index !== run.firstIndex + run.offsets.length) {
      run = { firstIndex: rec.index, startOff: off, endOff: off, offsets: [], times: [] };
      runs.push(run);
    }
    run.offsets.push(off);
    run.times.push(rec.timestampUs);
    off += rec.size;
    run.endOff = off;
    next = rec.index + 1;
  }
  if (badStart >= 0) bad.push({ start: badStart, end: buf.length });
  return { runs, bad };
}

function plausible(buf: Buffer, off: number, minIndex: number): boolean {
  if (off + HEADER_BYTES + 16 > buf.length) return false;
  const len = buf.readUInt32LE(off);
  if (len < 16 || len > MAX_BODY_BYTES || off + HEADER_BYTES + len > buf.length) return false;
  const index = buf.readDoubleLE(off + HEADER_BYTES);
  return Number.isSafeInteger(index) && index >= minIndex;
}

const RUN_SUFFIX = /^(seg-\d{16}\.log)\.run-(\d{16})$/;
const GAP_MARKER = /^gap-(\d{16})-(\d{16})$/;

function gapMarkerName(from: number, to: number): string {
  return `gap-${String(from).padStart(16, '0')}-${String(to).padStart(16, '0')}`;
}

function gapMarkerEnd(marker: string): number {
  return Number(GAP_MARKER.exec(marker)?.[2] ?? Infinity);
}

/**
 * Recovers the segments in `dir`, continuing the index after `highWaterMark` at least.
 *
 * A crash leaves at most a torn record at the end of the active segment: that is cut. Anything
 * else is damage. A damaged segment is never cut at its first bad byte (which dropped every record
 * after it, and let their indexes be handed out again): its valid records are rewritten as clean
 * segments, one per contiguous run, and the file itself is renamed to `*.damaged`. Segments after
 * a damaged one are kept; the indexes between become a gap that is never filled.
 *
 * The rewrite survives a crash at any point: the runs go to `<seg>.run-<first>` files, fsynced,
 * then renaming the damaged segment away commits, then the runs take their segment names (the one
 * that takes the damaged segment's own name last). On open, run files whose segment still exists
 * are from before the commit and are deleted; the others are promoted.
 */
export async function recoverSegments(dir: string, highWaterMark: number): Promise<{ segments: Segment[]; report: RecoveryReport }> {
  await finishRewrites(dir);
  const names = (await readdir(dir))
    .map((name) => ({ name, first: parseSegmentFileName(name) }))
    .filter((s): s is { name: string; first: number } => s.first !== null)
    .sort((a, b) => a.first - b.first);
  const segments: Segment[] = [];
  const damagedSegments: string[] = [];
  const details: string[] = [];
  let truncatedBytes = 0;
  let recoveredRecords = 0;
  let lostIndexes = 0;
  // A gap stays in the log for good; its marker file says it was already reported, so the next
  // open neither counts it as lost again nor raises the alarm again.
  const known = new Set((await readdir(dir)).filter((n) => GAP_MARKER.test(n)));
  const newGaps: string[] = [];
  const noteGap = (from: number, to: number): void => {
    if (to < from) return;
    const marker = gapMarkerName(from, to);
    if (known.has(marker)) return;
    known.add(marker);
    newGaps.push(marker);
    lostIndexes += to - from + 1;
  };
  let lastKept = (names[0]?.first ?? 1) - 1;
  for (let i = 0; i < names.length; i++) {
    const { name, first } = names[i] as { name: string; first: number };
    const isLast = i === names.length - 1;
    const path = join(dir, name);
    const buf = await readFile(path);
    const minIndex = Math.max(first, lastKept + 1);
    const scan = scanSegment(buf, minIndex);
    const run = scan.runs[0];
    const tail = scan.bad[0];
    const clean =
      scan.runs.length <= 1 &&
      (run === undefined ? isLast : run.startOff === 0 && run.firstIndex === first && first === minIndex) &&
      (scan.bad.length === 0 || (isLast && scan.bad.length === 1 && tail !== undefined && tail.end === buf.length && tail.start === (run?.endOff ?? 0)));
    if (clean) {
      if (run !== undefined) noteGap(lastKept + 1, first - 1);
      const seg = await Segment.adopt(path, first, run?.offsets ?? [], run?.times ?? [], run?.endOff ?? 0);
      truncatedBytes += buf.length - (run?.endOff ?? 0);
      segments.push(seg);
      if (run !== undefined) lastKept = seg.last;
      continue;
    }
    // Damage: set the file aside, keep every valid record of it as clean segments.
    const badAt = scan.bad.map((b) => `${b.start}-${b.end}`).join(', ');
    const firstBad = scan.bad[0]?.start ?? 0;
    const after = scan.runs.reduce((n, r) => n + r.offsets.filter((o) => o > firstBad).length, 0);
    const kept = scan.runs.reduce((n, r) => n + r.offsets.length, 0);
    const aside = await rewrite(dir, name, buf, scan.runs);
    damagedSegments.push(aside);
    recoveredRecords += after;
    for (const r of scan.runs) {
      noteGap(lastKept + 1, r.firstIndex - 1);
      const rname = segmentFileName(r.firstIndex);
      segments.push(await Segment.adopt(join(dir, rname), r.firstIndex, r.offsets.map((o) => o - r.startOff), r.times, r.endOff - r.startOff));
      lastKept = r.firstIndex + r.offsets.length - 1;
    }
    details.push(
      buf.length === 0
        ? `${name} is empty (its indexes from ${first} are lost); set aside as ${aside}`
        : `${name}: ${buf.length} bytes, bad bytes at offsets ${badAt}; ${kept} valid records kept in ${scan.runs.length} segment(s), ${after} of them after the damage; set aside as ${aside}`,
    );
  }
  const foundLast = lastKept;
  const lostBefore = lostIndexes;
  noteGap(foundLast + 1, highWaterMark);
  if (lostIndexes > lostBefore) {
    details.push(
      names.length === 0
        ? `no segment found, but indexes up to ${highWaterMark} were handed out (the events directory was emptied or deleted)`
        : `indexes ${foundLast + 1}..${highWaterMark} were committed but are not in any segment`,
    );
  }
  const nextIndex = Math.max(foundLast, highWaterMark) + 1;
  // The active segment must continue at nextIndex: an empty one that cannot is dropped (it holds
  // nothing), and after a gap a fresh one starts.
  const active = segments[segments.length - 1];
  if (active !== undefined && active.count === 0 && active.first !== nextIndex) {
    segments.pop();
    await active.close();
    await unlink(active.path);
  }
  const tailSeg = segments[segments.length - 1];
  if (tailSeg === undefined || tailSeg.last !== nextIndex - 1) {
    segments.push(await Segment.create(join(dir, segmentFileName(nextIndex)), nextIndex));
  }
  for (const marker of newGaps) await writeFile(join(dir, marker), '', { mode: 0o600 });
  // Markers of gaps that retention has since passed say nothing any more.
  const oldest = (segments[0] as Segment).first;
  for (const marker of known) if (gapMarkerEnd(marker) < oldest) await unlink(join(dir, marker)).catch(() => undefined);
  await fsyncDir(dir);
  const damaged = damagedSegments.length > 0 || lostIndexes > 0;
  return {
    segments,
    report: { segments: segments.length, truncatedBytes, damaged, damagedSegments, recoveredRecords, lostIndexes, highWaterMark, nextIndex, details },
  };
}

/** Writes each run to `<name>.run-<first>`, renames `name` to `*.damaged`, then promotes the runs. Returns the new name. */
async function rewrite(dir: string, name: string, buf: Buffer, runs: readonly Run[]): Promise<string> {
  for (const r of runs) {
    const fh = await open(join(dir, `${name}.run-${String(r.firstIndex).padStart(16, '0')}`), 'w', 0o600);
    try {
      await fh.writeFile(buf.subarray(r.startOff, r.endOff));
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
  await fsyncDir(dir);
  const aside = await freeName(dir, `${name}.damaged`);
  await rename(join(dir, name), join(dir, aside));
  await fsyncDir(dir); // the commit point
  await finishRewrites(dir);
  return aside;
}

/** Completes (or discards, if its source is still in place) every pending run rewrite in `dir`. */
async function finishRewrites(dir: string): Promise<void> {
  const names = await readdir(dir);
  const present = new Set(names);
  const pending = names
    .map((n) => ({ n, m: RUN_SUFFIX.exec(n) }))
    .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null)
    .map(({ n, m }) => ({ file: n, source: m[1] as string, target: `seg-${m[2] as string}.log` }))
    // The run that takes the source's own name goes last: until it does, the source name being
    // absent is what says the rewrite was committed.
    .sort((a, b) => Number(a.target === a.source) - Number(b.target === b.source));
  if (pending.length === 0) return;
  for (const p of pending) {
    if (present.has(p.source)) await unlink(join(dir, p.file));
    else await rename(join(dir, p.file), join(dir, p.target));
  }
  await fsyncDir(dir);
}

/** `base`, or `base` with a counter before its suffix when a file of that name exists. */
async function freeName(dir: string, base: string): Promise<string> {
  for (let n = 0; ; n++) {
    const candidate = n === 0 ? base : base.replace(/\.damaged$/, `.${n}.damaged`);
    try {
      await stat(join(dir, candidate));
    } catch {
      return candidate;
    }
  }
}

/** Makes file creations/renames in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
