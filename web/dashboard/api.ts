/**
 * Calls to the master's HTTP API from the page: same origin, with the operator's bearer token when
 * one is set (kept in sessionStorage, so it ends with the tab). Refusals come back as the API's
 * problem details, whose `detail` the page shows as it is.
 */
import type { Problem } from './types.js';

const TOKEN_KEY = 'sutra-grid-token';

/** The token the operator entered, or ''. */
export function token(): string {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

/** Keeps `value` for this tab ('' forgets it). */
export function setToken(value: string): void {
  try {
    if (value === '') sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, value);
  } catch {
    // storage disabled: the token lasts as long as nothing else needs it
  }
}

/** The request headers every call sends. */
export function authHeaders(): Record<string, string> {
  const t = token();
  return t === '' ? {} : { authorization: `Bearer ${t}` };
}

/** A refused call: the API's problem, or one made up for a network failure. */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}

/** Calls `/api/grid/<path>`; resolves with the JSON answer, rejects with an {@link ApiError}. */
export async function api<T>(path: string, init: { method?: 'GET' | 'POST'; json?: unknown; yaml?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeaders() };
  let body: string | undefined;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.yaml !== undefined) {
    headers['content-type'] = 'application/yaml';
    body = init.yaml;
  }
  let res: Response;
  try {
    res = await fetch(`/api/grid/${path}`, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, credentials: 'same-origin' });
  } catch (err) {
    throw new ApiError({ type: 'urn:sutra-grid:error:UNAVAILABLE', title: 'unreachable', status: 0, detail: `the master did not answer: ${(err as Error).message}`, grpcCode: 'UNAVAILABLE' });
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? {} : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const p = parsed as Partial<Problem> | undefined;
    throw new ApiError({
      type: p?.type ?? 'about:blank',
      title: p?.title ?? res.statusText,
      status: res.status,
      detail: p?.detail ?? (text.slice(0, 200) || `HTTP ${res.status}`),
      grpcCode: p?.grpcCode ?? '',
      ...(p?.field !== undefined ? { field: p.field } : {}),
      ...(p?.diagnostics !== undefined ? { diagnostics: p.diagnostics } : {}),
    });
  }
  return parsed as T;
}

/** A problem as one line: its detail and the code in parentheses, as the CLI prints errors. */
export function problemText(err: unknown): string {
  if (err instanceof ApiError) {
    const code = err.problem.type.startsWith('urn:sutra-grid:error:') ? err.problem.type.slice('urn:sutra-grid:error:'.length) : err.problem.grpcCode;
    return `${err.problem.detail}${code !== '' ? ` (${code})` : ''}`;
  }
  return (err as Error).message ?? String(err);
}
