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
  /** Keys seen so far: a list while short (most objects are), a set once long. */
  keys: string[] | Set<string> | null;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/** Offset of the quote closing the string opened at `start`. */
function stringEnd(text: string, start: number): number {
  let end = text.indexOf('"', start + 1);
  for (;;) {
    if (end === -1) return text.length - 1;
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
}

/** Records `key` in the frame; true when it was there already. */
function seenBefore(frame: Frame, key: string): boolean {
  const keys = frame.keys;
  if (keys === null) return false;
  if (keys instanceof Set) {
    if (keys.has(key)) return true;
    keys.add(key);
    return false;
  }
  if (keys.includes(key)) return true;
  keys.push(key);
  if (keys.length > 16) frame.keys = new Set(keys);
  return false;
}

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
    const code = text.charCodeAt(i);
    if (isWhitespace(code) || code === COLON) continue;
    const top = stack[stack.length - 1];
    if (code === COMMA) {
      if (top?.isObject) top.expectKey = true;
      else if (top) top.index++;
      continue;
    }
    if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      stack.pop();
      continue;
    }
    if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (stack.length >= maxDepth) return { tooDeepAt: i, ...(duplicateKey ? { duplicateKey } : {}), places };
      const pointer = childPointer();
      place(pointer, i, i + 1);
      const isObject = code === OPEN_BRACE;
      stack.push({ isObject, pointer, index: 0, expectKey: isObject, key: '', keyStart: 0, keyEnd: 0, keys: isObject ? [] : null });
      continue;
    }
    const start = i;
    if (code === QUOTE) {
      i = stringEnd(text, i);
    } else {
      for (let next = text.charCodeAt(i + 1); i + 1 < text.length; next = text.charCodeAt(i + 1)) {
        if (isWhitespace(next) || next === COMMA || next === CLOSE_BRACE || next === CLOSE_BRACKET) break;
        i++;
      }
    }
    const end = i + 1;
    if (top?.isObject && top.expectKey) {
      const raw = text.slice(start, end);
      const key = raw.includes('\\') ? (JSON.parse(raw) as string) : raw.slice(1, -1);
      if (seenBefore(top, key)) duplicateKey ??= { key, start, end };
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
