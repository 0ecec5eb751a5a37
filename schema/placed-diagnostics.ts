/**
 * Building diagnostics with a place: from JSON offsets, from source locations, and the few the
 * parser makes itself (limits, and the one that counts problems past the first ones shown).
 */
import type { Diagnostic } from './errors.js';
import type { JsonPlace } from './json-scan.js';
import { SPEC_LIMITS } from './limits.js';
import type { LineIndex, SourceLocation } from './line-index.js';
import type { RawDiagnostic } from './schema-check.js';
import { pointerSegments, toPointer } from './source-map.js';

/** Where a diagnostic is shown. */
export type Place = Partial<Pick<Diagnostic, 'line' | 'col' | 'sourceLine' | 'sourceCol' | 'length'>>;

/** Longest message kept: messages quote what the user wrote, and a 4 MB key must not make a 4 MB message. */
const MAX_MESSAGE = 400;

/** A location as diagnostic fields; `sourceCol` only when the line shown was cut. */
export function placed(location: SourceLocation): Place {
  const { sourceCol, ...rest } = location;
  return sourceCol === location.col ? rest : { ...rest, sourceCol };
}

/**
 * Places a diagnostic found in JSON text, as `SourceMap.locate` does for YAML: a pointer to
 * something absent falls back to its deepest present ancestor, shown at that ancestor's key.
 */
export function placeJson(lines: LineIndex, places: ReadonlyMap<string, JsonPlace>, d: RawDiagnostic): Place {
  const segments = pointerSegments(d.pointer);
  for (let n = segments.length; n >= 0; n--) {
    const found = places.get(toPointer(segments.slice(0, n)));
    if (!found) continue;
    const missing = n < segments.length;
    if (found.keyStart !== undefined && found.keyEnd !== undefined && (missing || d.atKey)) {
      return placed(lines.at(found.keyStart, found.keyEnd));
    }
    return placed(lines.at(found.valueStart, found.valueEnd));
  }
  return placed(lines.at(0));
}

/** A message cut to a readable length. */
export function clip(message: string): string {
  return message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message;
}

/** A `SPEC_LIMIT` error about the whole text, shown at `location`. */
export function limitDiagnostic(file: string, message: string, location: SourceLocation): Diagnostic {
  return { code: 'SPEC_LIMIT', severity: 'error', message, pointer: '', file, ...placed(location) };
}

/** The text nests deeper than `SPEC_LIMITS.maxDepth`; `location` is the first bracket or node too deep. */
export function tooDeep(file: string, location: SourceLocation): Diagnostic {
  return limitDiagnostic(file, `nested more than ${SPEC_LIMITS.maxDepth} levels deep`, location);
}

/** Stands for `count` problems not listed, placed where the first of them is. */
export function moreProblems(file: string, count: number, severity: 'error' | 'warning', pointer: string, where: Place): Diagnostic {
  return {
    code: 'SPEC_MORE_PROBLEMS',
    severity,
    message: `and ${count} more problem${count === 1 ? '' : 's'} from here on (only the first ${SPEC_LIMITS.maxDiagnostics} are listed)`,
    pointer,
    file,
    ...where,
  };
}
