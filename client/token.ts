import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors/index.js';

/**
 * Reads the shared token: `--token-file` wins, then `SUTRA_GRID_TOKEN` (a token value, as in the docs).
 * Returns undefined when neither is set; an empty or unreadable file is a configuration error.
 */
export function resolveToken(tokenFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (tokenFile !== undefined && tokenFile !== '') {
    let text: string;
    try {
      text = readFileSync(tokenFile, 'utf8');
    } catch (err) {
      throw new ConfigError('--token-file', `cannot read ${tokenFile}: ${(err as Error).message}`, { cause: err });
    }
    const token = text.trim();
    if (token === '') throw new ConfigError('--token-file', `${tokenFile} is empty`);
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
