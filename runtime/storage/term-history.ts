/**
 * The terms of a log, as runs: a log's terms never decrease (a leader appends only in its own term,
 * a replica only a leader's records, checked), so a log of any length is described by one entry per
 * term it holds. It answers what the replication handshake needs: the term at a position, and how
 * many records have a term at most T.
 */
export class TermHistory {
  /** Runs in log order: `term` holds positions `start`..(next run's start - 1). */
  private readonly runs: Array<{ term: number; start: number }> = [];
  private count = 0;

  /** Records described. */
  get length(): number {
    return this.count;
  }

  /** Term of the last record (0 for an empty log). */
  get lastTerm(): number {
    return this.runs.at(-1)?.term ?? 0;
  }

  /** Position of the first record of the last run (0 for an empty log). */
  get lastRunStart(): number {
    return this.runs.at(-1)?.start ?? 0;
  }

  /** Describes one more record. @throws Error when `term` is below the last record's (a bug). */
  append(term: number): void {
    const last = this.runs.at(-1);
    if (last !== undefined && term < last.term) throw new Error(`term history: term ${term} after ${last.term}`);
    this.count++;
    if (last === undefined || term > last.term) this.runs.push({ term, start: this.count });
  }

  /** Forgets every record after `position`. */
  truncate(position: number): void {
    while (this.runs.length > 0 && this.runs.at(-1)!.start > position) this.runs.pop();
    this.count = Math.min(this.count, position);
  }

  /** Term of the record at `position` (1-based), or undefined outside the log. */
  termAt(position: number): number | undefined {
    if (position < 1 || position > this.count) return undefined;
    let lo = 0;
    let hi = this.runs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.runs[mid]!.start <= position) lo = mid;
      else hi = mid - 1;
    }
    return this.runs[lo]!.term;
  }

  /**
   * The highest term of this log that is at most `term`, and how many records have a term at most
   * that (all of them up to its run's end); `{ term: 0, end: 0 }` when no record qualifies.
   */
  endOf(term: number): { term: number; end: number } {
    for (let i = this.runs.length - 1; i >= 0; i--) {
      const run = this.runs[i]!;
      if (run.term <= term) return { term: run.term, end: i + 1 < this.runs.length ? this.runs[i + 1]!.start - 1 : this.count };
    }
    return { term: 0, end: 0 };
  }
}
