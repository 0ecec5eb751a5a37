import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors/index.js';

/** Where a token may come from; $SUTRA_GRID_TOKEN (a token value, as in the docs) is the fallback. */
export interface TokenSource {
  /** The token itself (a Pulumi input); wins over everything. Empty counts as not given. */
  readonly value?: string | undefined;
  /** A file holding it (`--token-file`, the agent's `token_file`); wins over the environment. */
  readonly file?: string | undefined;
}

/**
 * The shared token every client and daemon presents or requires: `source.value`, else the file
 * `source.file`, else `SUTRA_GRID_TOKEN` from `env`. Undefined when none is set.
 * @throws ConfigError naming `--token-file` when the file is unreadable or empty.
 */
export function resolveToken(source: TokenSource = {}, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (source.value !== undefined && source.value !== '') return source.value;
  const file = source.file;
  if (file !== undefined && file !== '') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError('--token-file', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
    const token = text.trim();
    if (token === '') throw new ConfigError('--token-file', `${file} is empty`);
    return token;
  }
  const fromEnv = env['SUTRA_GRID_TOKEN']?.trim();
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

/**
 * Constant-time token comparison. Both sides are hashed first so that neither the length nor the
 * position of the first differing byte leaks through timing.
 */
export function tokensEqual(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Metadata key carrying the token on every call. */
export const TOKEN_METADATA_KEY = 'authorization';

/** Formats the token as the metadata value (`Bearer <token>`). */
export function bearer(token: string): string {
  return `Bearer ${token}`;
}
