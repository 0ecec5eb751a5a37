/**
 * Maps a JSON Pointer into a parsed YAML document back to `line:col`, so a schema or semantic
 * problem found on plain data can be shown where the user wrote it.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import { LineIndex, type SourceLocation } from './line-index.js';

export type { SourceLocation } from './line-index.js';

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

/**
 * A parsed source text and what is needed to turn offsets into lines. Each mapping's keys are
 * indexed the first time a pointer goes through it, so placing every diagnostic of a spec with
 * 20,000 keys costs one pass over them, not one per diagnostic.
 */
export class SourceMap {
  private readonly lines: LineIndex;
  private readonly keyIndex = new WeakMap<YAMLMap, Map<string, Pair>>();

  constructor(
    readonly text: string,
    private readonly doc: Document.Parsed,
  ) {
    this.lines = new LineIndex(text);
  }

  /** Location of a character offset; `end` bounds the underline when on the same line. */
  at(offset: number, end = offset + 1): SourceLocation {
    return this.lines.at(offset, end);
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
      const pair = this.keysOf(resolved).get(segment);
      if (!pair || !isScalar(pair.key)) return undefined;
      const value = isAlias(pair.value) ? (pair.value.resolve(this.doc) ?? pair.value) : pair.value;
      return { node: value, key: pair.key };
    }
    if (isSeq(resolved) && /^(0|[1-9][0-9]*)$/.test(segment)) {
      const item: unknown = resolved.items[Number(segment)];
      if (item === undefined) return undefined;
      return { node: isAlias(item) ? (item.resolve(this.doc) ?? item) : item, key: null };
    }
    return undefined;
  }

  /** The map's scalar keys; the first of two equal keys wins, as in a linear search. */
  private keysOf(map: YAMLMap): Map<string, Pair> {
    let index = this.keyIndex.get(map);
    if (!index) {
      index = new Map();
      for (const pair of map.items) {
        if (!isPair(pair) || !isScalar(pair.key)) continue;
        const name = String(pair.key.value);
        if (!index.has(name)) index.set(name, pair);
      }
      this.keyIndex.set(map, index);
    }
    return index;
  }
}

function hasRange(node: unknown): node is Node & { range: [number, number, number] } {
  return typeof node === 'object' && node !== null && Array.isArray((node as Node).range);
}

/** `key:` with nothing after it parses as an empty null scalar; the key is the better place to point. */
function isEmptyScalar(node: unknown): boolean {
  return isScalar(node) && node.value === null && hasRange(node) && node.range[0] === node.range[1];
}
