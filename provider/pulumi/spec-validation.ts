/**
 * The provider's seam onto the spec layer: validation of a spec object or a grid.yaml, reduced to
 * the problems `check` reports. Warnings are not failures (the spec is still accepted).
 */
import { isAbsolute, resolve } from 'node:path';
import { loadGridSpecFile, validateGridSpecObject, type Diagnostic, type ParseResult } from '../../schema/index.js';
import type { SpecObject } from './grid-inputs.js';

/** One spec error with its place: a JSON pointer, and file:line:col when it came from a file. */
export type SpecProblem = Pick<Diagnostic, 'code' | 'message' | 'pointer' | 'file' | 'line' | 'col'>;

function errorsOf(result: ParseResult): SpecProblem[] {
  return result.diagnostics.filter((d) => d.severity === 'error');
}

/** Every schema and semantic error of a spec given as an object. */
export function validateSpec(spec: SpecObject): SpecProblem[] {
  return errorsOf(validateGridSpecObject(spec, 'spec'));
}

/** What reading a grid.yaml gave: the spec object when it parsed, and every error. */
export interface LoadedSpecFile {
  readonly spec?: SpecObject;
  readonly problems: SpecProblem[];
  /** Set when the file could not be read at all. */
  readonly readError?: string;
}

/**
 * Reads and validates a grid.yaml. A relative path is taken from the working directory and kept
 * as written in the messages (`../local/grid.yaml:35:12: ...`), as the user knows it.
 */
export async function loadSpecFile(path: string): Promise<LoadedSpecFile> {
  const full = isAbsolute(path) ? path : resolve(process.cwd(), path);
  const result = await loadGridSpecFile(path);
  const problems = errorsOf(result);
  const unreadable = problems.find((p) => p.code === 'SPEC_FILE_READ');
  if (unreadable) return { problems: [], readError: `cannot read ${path} (${full}): ${unreadable.message}` };
  return result.ok ? { spec: result.spec as SpecObject, problems } : { problems };
}
