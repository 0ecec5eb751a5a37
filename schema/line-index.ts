/**
 * Offsets to `line:col`, built once per text so placing many diagnostics stays linear, and source
 * lines cut to a window around the column so a 4 MB one-line JSON spec does not copy 4 MB into
 * every diagnostic.
 */

/** A position in the source text; line and col are 1-based. */
export interface SourceLocation {
  readonly line: number;
  readonly col: number;
  /** The source line (without its line break), cut to a window around `col` when long. */
  readonly sourceLine: string;
  /** Where `col` falls in `sourceLine` (1-based); differs from `col` when the line was cut. */
  readonly sourceCol: number;
  /** Characters to underline from `sourceCol`, at least 1, never past the end of `sourceLine`. */
  readonly length: number;
}

/** Characters of a source line shown before the column when the line is cut. */
const BEFORE = 60;
/** Characters shown from the column on. */
const AFTER = 100;

/** Line starts of one text. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(private readonly text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  /** Location of a character offset; `end` bounds the underline when on the same line. */
  at(offset: number, end = offset + 1): SourceLocation {
    const clamped = Math.max(0, Math.min(offset, this.text.length));
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= clamped) low = mid;
      else high = mid - 1;
    }
    const lineStart = this.starts[low] ?? 0;
    let lineEnd = (this.starts[low + 1] ?? this.text.length + 1) - 1;
    if (lineEnd > lineStart && this.text[lineEnd - 1] === '\r') lineEnd--;
    const col = clamped - lineStart + 1;
    const long = lineEnd - lineStart > BEFORE + AFTER;
    const from = long ? Math.max(lineStart, clamped - BEFORE) : lineStart;
    const to = long ? Math.min(lineEnd, clamped + AFTER) : lineEnd;
    const sourceLine = this.text.slice(from, Math.max(from, to));
    const sourceCol = clamped - from + 1;
    const room = Math.max(1, sourceLine.length - (sourceCol - 1));
    return { line: low + 1, col, sourceLine, sourceCol, length: Math.max(1, Math.min(end - clamped, room)) };
  }
}
