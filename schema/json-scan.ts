/**
 * One iterative pass over JSON text that JSON.parse already accepted: how deep it nests, whether
 * an object repeats a key (JSON.parse keeps the last silently, the YAML path reports it), and
 * where the values and keys named by a set of JSON pointers are. It replaces a second parse with
 * the YAML parser, which keeps a node per value and costs seconds on a large spec, and it never
 * recurses, so no nesting can overflow the stack.
 */
import { pointerSegments, toPointer } from './source-map.js';

/** Where one value (and, inside an object, its key) is in the text. */
export interface JsonPlace {
  readonly valueStart: number;
  readonly valueEnd: number;
  readonly keyStart?: number;
  readonly keyEnd?: number;
}

/** What one scan found. */
export interface JsonScan {
  /** Offset of the first bracket nested deeper than the limit; the scan stops there. */
  readonly tooDeepAt?: number;
  /** The first repeated key of an object: where its second occurrence is. */
  readonly duplicateKey?: { readonly key: string; readonly start: number; readonly end: number };
  /** The place of each wanted pointer that exists, and of each of its ancestors. */
  readonly places: ReadonlyMap<string, JsonPlace>;
}

interface Frame {
  readonly isObject: boolean;
  /** This container's pointer, or null when nothing wanted lies inside it. */
  readonly pointer: string | null;
  index: number;
  expectKey: boolean;
  key: string;
  keyStart: number;
  keyEnd: number;
  readonly keys: Set<string> | null;
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

/**
 * Scans `text` (valid JSON). Stops at the first bracket deeper than `maxDepth`.
 * @param wanted pointers whose places are needed (their ancestors are placed too).
 */
export function scanJson(text: string, maxDepth: number, wanted: Iterable<string> = []): JsonScan {
  const prefixes = new Set<string>();
  for (const pointer of wanted) {
    const segments = pointerSegments(pointer);
    for (let n = 0; n <= segments.length; n++) prefixes.add(toPointer(segments.slice(0, n)));
  }
  const places = new Map<string, JsonPlace>();
  const stack: Frame[] = [];
  let duplicateKey: JsonScan['duplicateKey'];

  /** The pointer of the value starting now, or null when it is not wanted. */
  const childPointer = (): string | null => {
    const top = stack[stack.length - 1];
    if (!top) return prefixes.has('') ? '' : null;
    if (top.pointer === null) return null;
    const pointer = top.pointer + toPointer([top.isObject ? top.key : top.index]);
    return prefixes.has(pointer) ? pointer : null;
  };
  const place = (pointer: string | null, valueStart: number, valueEnd: number): void => {
    if (pointer === null) return;
    const top = stack[stack.length - 1];
    places.set(pointer, top?.isObject ? { valueStart, valueEnd, keyStart: top.keyStart, keyEnd: top.keyEnd } : { valueStart, valueEnd });
  };

  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? '';
    if (WHITESPACE.has(ch) || ch === ':') continue;
    const top = stack[stack.length - 1];
    if (ch === ',') {
      if (top?.isObject) top.expectKey = true;
      else if (top) top.index++;
      continue;
    }
    if (ch === '}' || ch === ']') {
      stack.pop();
      continue;
    }
    if (ch === '{' || ch === '[') {
      if (stack.length >= maxDepth) return { tooDeepAt: i, ...(duplicateKey ? { duplicateKey } : {}), places };
      const pointer = childPointer();
      place(pointer, i, i + 1);
      const isObject = ch === '{';
      stack.push({ isObject, pointer, index: 0, expectKey: isObject, key: '', keyStart: 0, keyEnd: 0, keys: isObject ? new Set() : null });
      continue;
    }
    const start = i;
    if (ch === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else {
      while (i + 1 < text.length && !WHITESPACE.has(text[i + 1] ?? '') && !',]}'.includes(text[i + 1] ?? '')) i++;
    }
    const end = i + 1;
    if (top?.isObject && top.expectKey) {
      const raw = text.slice(start, end);
      const key = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
      if (top.keys?.has(key)) duplicateKey ??= { key, start, end };
      top.keys?.add(key);
      top.key = key;
      top.keyStart = start;
      top.keyEnd = end;
      top.expectKey = false;
      continue;
    }
    place(childPointer(), start, end);
  }
  return { ...(duplicateKey ? { duplicateKey } : {}), places };
}
