/**
 * Who a certificate speaks for. The identity is a URI subject alternative name
 * `sutra-grid://<role>/<name>`: the only field the grid reads, so a caller cannot pass as another by
 * choosing a common name.
 */

/**
 * Roles a certificate can carry. `master` is the grid's own; `node` is a storage node's (issued to
 * its agent for it, never by a join token: it may only replicate); the rest are callers.
 */
export type GridRole = 'reader' | 'operator' | 'admin' | 'agent' | 'master' | 'node';

export const GRID_ROLES: readonly GridRole[] = ['reader', 'operator', 'admin', 'agent', 'master', 'node'];

/** A certificate's subject in grid terms. */
export interface GridIdentity {
  readonly role: GridRole;
  /** The agent id for `agent`, the master id for `master`, the node id for `node`, a free-form name for clients. */
  readonly name: string;
}

const URI_PREFIX = 'sutra-grid://';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** True when `value` is a role name. */
export function isGridRole(value: string): value is GridRole {
  return (GRID_ROLES as readonly string[]).includes(value);
}

/** True when `name` is a valid identity name (the agent-id alphabet). */
export function isIdentityName(name: string): boolean {
  return NAME.test(name);
}

/** The URI SAN carrying `id`. */
export function identityUri(id: GridIdentity): string {
  return `${URI_PREFIX}${id.role}/${id.name}`;
}

/** Reads an identity URI; undefined when it is not one. */
export function parseIdentityUri(uri: string): GridIdentity | undefined {
  if (!uri.startsWith(URI_PREFIX)) return undefined;
  const [role, name, ...rest] = uri.slice(URI_PREFIX.length).split('/');
  if (rest.length > 0 || role === undefined || name === undefined || !isGridRole(role) || !isIdentityName(name)) return undefined;
  return { role, name };
}

/**
 * The identity in Node's `subjectaltname` text of a peer certificate
 * (`URI:sutra-grid://agent/a1, IP Address:10.0.0.1`); undefined when there is none or more than one.
 */
export function identityFromAltNames(altnames: string | undefined): GridIdentity | undefined {
  if (altnames === undefined) return undefined;
  const found = altnames
    .split(', ')
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => parseIdentityUri(entry.slice(4)))
    .filter((id): id is GridIdentity => id !== undefined);
  return found.length === 1 ? found[0] : undefined;
}
