import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/**
 * The largest semi-space a master lets V8 grow its young generation to, in MiB: the young
 * generation is two of them. Node 20's own ceiling is 16 MiB (32 MiB committed), which a master
 * under 10,000 heartbeating agents reaches and keeps: a seventh of its RSS for objects that live
 * less than a heartbeat's round trip. At 4 MiB a scavenge comes every couple of hundred
 * milliseconds under that load and costs well under a millisecond (issue 17).
 */
export const MASTER_SEMI_SPACE_MB = 4;

/** V8's own default of `--semi-space-growth-factor`. */
const V8_GROWTH_FACTOR = 2;

let holders = 0;
let observer: PerformanceObserver | undefined;
let factor = V8_GROWTH_FACTOR;

function newSpaceBytes(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

function setFactor(next: number): void {
  if (next === factor) return;
  factor = next;
  setFlagsFromString(`--semi-space-growth-factor=${next}`);
}

/**
 * Keeps V8's young generation at most two semi-spaces of `semiSpaceMb`. `--max-semi-space-size`
 * is read once, when V8 creates the heap (setting it later does nothing), so it would be the
 * operator's flag; the growth factor, though, is read at every growth. After each GC the factor
 * allows one more doubling while that stays within the cap, and none once it would not: the young
 * generation still grows from its small start and shrinks when V8 finds it idle. GC entries reach
 * the observer between turns of the event loop, so one turn allocating several semi-spaces' worth
 * may grow it once past the cap (a server allocates a little per turn).
 *
 * Process-wide (the heap is the process's): held while any master of the process runs.
 * @returns the release: the last one gives V8 back its own growth.
 */
export function capYoungGeneration(semiSpaceMb: number = MASTER_SEMI_SPACE_MB): () => void {
  const capBytes = 2 * semiSpaceMb * 1024 * 1024;
  const adjust = (): void => setFactor(V8_GROWTH_FACTOR * newSpaceBytes() <= capBytes ? V8_GROWTH_FACTOR : 1);
  holders++;
  if (observer === undefined) {
    // A GC entry comes after each collection: the next growth is decided at a later one.
    observer = new PerformanceObserver(adjust);
    observer.observe({ entryTypes: ['gc'] });
  }
  adjust();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holders > 0) return;
    observer?.disconnect();
    observer = undefined;
    setFactor(V8_GROWTH_FACTOR);
  };
}
