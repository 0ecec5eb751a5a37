/**
 * Maps a JSON Pointer into a parsed YAML document back to `line:col`, so a schema or semantic
 * problem found on plain data can be shown where the user wrote it.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';

/** A position in the source text; line and col are 1-based. */
export interface SourceLocation {
  readonly line: number;
  readonly col: number;
  /** The whole source line (without its line break). */
  readonly sourceLine: string;
  /** Characters to underline from `col`, at least 1, never past the end of the line. */
  readonly length: number;
}

/** Which part of a `key: value` entry a location should point at. */
export type LocateTarget = 'value' | 'key';

/** Splits a JSON Pointer into unescaped segments ('' is the whole document). */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Builds a JSON Pointer from segments, escaping `~` and `/`. */
export function toPointer(segments: ReadonlyArray<string | number>): string {
  return segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** A parsed source text and what is needed to turn offsets into lines. */
export class SourceMap {
  private readonly lines: string[];

  constructor(
    readonly text: string,
    private readonly doc: Document.Parsed,
    private readonly lineCounter: LineCounter,
  ) {
    this.lines = text.split(/\r?\n/);
  }

  /** Location of a character offset; `end` bounds the underline when on the same line. */
  at(offset: number, end = offset + 1): SourceLocation {
    const { line, col } = this.lineCounter.linePos(offset);
    const sourceLine = this.lines[line - 1] ?? '';
    const room = Math.max(1, sourceLine.length - (col - 1));
    return { line, col, sourceLine, length: Math.max(1, Math.min(end - offset, room)) };
  }

  /**
   * Location of the node a pointer names. A pointer to something absent (a missing required
   * property, a value filled in by a default) falls back to its deepest present ancestor, shown at
   * that ancestor's key, since that is the entry the user has to complete.
   */
  locate(pointer: string, target: LocateTarget = 'value'): SourceLocation {
    let node: unknown = this.doc.contents;
    let key: Node | null = null;
    let missing = false;
    for (const segment of pointerSegments(pointer)) {
      const next = this.child(node, segment);
      if (!next) {
        missing = true;
        break;
      }
      ({ node, key } = next);
    }
    const useKey = key !== null && (missing || target === 'key' || isEmptyScalar(node) || !hasRange(node));
    const chosen = useKey ? key : node;
    if (!hasRange(chosen)) return this.at(0);
    const [start, end] = chosen.range;
    // A collection spans many lines: mark its first character only.
    return this.at(start, isScalar(chosen) ? end : start + 1);
  }

  private child(node: unknown, segment: string): { node: unknown; key: Node | null } | undefined {
    const resolved = isAlias(node) ? node.resolve(this.doc) : node;
    if (isMap(resolved)) {
      for (const pair of resolved.items) {
        if (isPair(pair) && isScalar(pair.key) && String(pair.key.value) === segment) {
          const value = isAlias(pair.value) ? (pair.value.resolve(this.doc) ?? pair.value) : pair.value;
          return { node: value, key: pair.key };
        }
      }
      return undefined;
    }
    if (isSeq(resolved) && /^(0|[1-9][0-9]*)$/.test(segment)) {
      const item: unknown = resolved.items[Number(segment)];
      if (item === undefined) return undefined;
      return { node: isAlias(item) ? (item.resolve(this.doc) ?? item) : item, key: null };
    }
    return undefined;
  }
}

function hasRange(node: unknown): node is Node & { range: [number, number, number] } {
  return typeof node === 'object' && node !== null && Array.isArray((node as Node).range);
}

/** `key:` with nothing after it parses as an empty null scalar; the key is the better place to point. */
function isEmptyScalar(node: unknown): boolean {
  return isScalar(node) && node.value === null && hasRange(node) && node.range[0] === node.range[1];
}
