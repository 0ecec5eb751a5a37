/**
 * Who is calling, and may they: run by `wrapService` before every handler. A caller is the legacy
 * shared token (all powers), a verified client certificate (its identity URI names role and name),
 * or nobody. The role check reads {@link RPC_ROLES}; an agent's calls must name its own id.
 */
import { status as GrpcStatus, type Metadata } from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import { TOKEN_METADATA_KEY, tokensEqual } from '../../client/transport.js';
import { identityFromAltNames, type GridRole } from '../../client/transport.js';
import { requirementOf, roleSatisfies, type Requirement } from './rpc-roles.js';
import { quote } from './grpc-edge.js';

/** The caller of one call. */
export interface Caller {
  readonly role: GridRole;
  readonly name: string;
  /** Authenticated by the shared token (passes every role check). */
  readonly legacy: boolean;
  /** Serial of the certificate, hex upper-case, when authenticated by one. */
  readonly serial?: string;
}

/** What a server call exposes for the check. */
export interface GuardedCall {
  readonly metadata: Metadata;
  getAuthContext?: () => { sslPeerCertificate?: PeerCertificate } | undefined;
}

/** A refused call: its status and message. */
export type Refusal = Error & { code: GrpcStatus; details: string };

function refuse(code: GrpcStatus, details: string): Refusal {
  return Object.assign(new Error(details), { code, details });
}

/** Decides every call of a server. */
export interface CallGuard {
  /** The method paths it knows; `wrapService` refuses to serve a method missing here. */
  knows(path: string): boolean;
  /** The caller of `call` to `path`, or the refusal. */
  authorize(path: string, call: GuardedCall, request: unknown): Caller | Refusal;
  /** For a request stream: the refusal of one message, or undefined. */
  checkMessage(path: string, caller: Caller, message: unknown): Refusal | undefined;
}

/** How the grid's guard is configured. */
export interface GridGuardOptions {
  /** The legacy shared token; undefined = none accepted. */
  readonly token: string | undefined;
  /** Certificates are verified by the TLS layer (mutual TLS on). */
  readonly tls: boolean;
  /** True for a revoked certificate serial or agent id: consulted on every call. */
  readonly isRevoked?: (serial: string, identity: { role: GridRole; name: string }) => boolean;
  /** Clock for expiry checks (tests). */
  readonly now?: () => number;
  /**
   * The one agent whose `agent` certificate is accepted (a storage node's own agent): another
   * agent's is refused, so a compromised agent cannot demote or promote nodes it does not run.
   * Undefined: any agent (the master, which checks `actsFor` instead).
   */
  readonly onlyAgent?: string | undefined;
}

const UNAUTH_TOKEN = 'missing or invalid token (give --token-file or SUTRA_GRID_TOKEN)';
const UNAUTH_TLS = 'no valid client certificate of this grid (give --tls-cert/--tls-key/--tls-ca, or join with a join token)';
const OPEN: Caller = { role: 'admin', name: 'local', legacy: true };
const TOKEN: Caller = { role: 'admin', name: 'shared-token', legacy: true };

function bearerMatches(metadata: Metadata, token: string): boolean {
  const value = metadata.get(TOKEN_METADATA_KEY)[0];
  if (typeof value !== 'string') return false;
  const presented = value.startsWith('Bearer ') ? value.slice(7) : value;
  return tokensEqual(presented, token);
}

function methodName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function check(path: string, req: Requirement, caller: Caller, request: unknown, onlyAgent: string | undefined): Refusal | undefined {
  if (caller.legacy) return undefined;
  const need = typeof req.role === 'function' ? req.role(request) : req.role;
  if (!roleSatisfies(caller.role, need) && req.alsoRoles?.includes(caller.role) !== true) {
    return refuse(GrpcStatus.PERMISSION_DENIED, `${methodName(path)} requires role ${need}; the caller ${quote(caller.name)} has role ${caller.role}`);
  }
  if (caller.role === 'agent' && onlyAgent !== undefined && caller.name !== onlyAgent) {
    return refuse(GrpcStatus.PERMISSION_DENIED, `${methodName(path)}: this node is run by agent ${quote(onlyAgent)}; agent ${quote(caller.name)} may not drive it`);
  }
  if (caller.role === 'agent' && req.actsFor !== undefined) {
    const id = req.actsFor(request);
    if (id !== undefined && id !== caller.name) {
      return refuse(GrpcStatus.PERMISSION_DENIED, `${methodName(path)}: agent ${quote(caller.name)} may act only as itself, not as agent ${quote(id)} (role agent of that id is missing)`);
    }
  }
  return undefined;
}

/** The guard of a server with the given token and TLS settings. */
export function gridGuard(opts: GridGuardOptions): CallGuard {
  const now = opts.now ?? Date.now;
  const identify = (call: GuardedCall): Caller | Refusal | undefined => {
    if (opts.token !== undefined && bearerMatches(call.metadata, opts.token)) return TOKEN;
    if (opts.tls) {
      const cert = call.getAuthContext?.()?.sslPeerCertificate;
      if (cert !== undefined) {
        const identity = identityFromAltNames(cert.subjectaltname);
        if (identity === undefined) return refuse(GrpcStatus.UNAUTHENTICATED, 'the client certificate carries no sutra-grid identity');
        // The handshake checked expiry; a connection may outlive its certificate.
        if (Date.parse(cert.valid_to) <= now()) return refuse(GrpcStatus.UNAUTHENTICATED, `the client certificate expired at ${cert.valid_to}`);
        const serial = cert.serialNumber.toUpperCase();
        if (opts.isRevoked?.(serial, identity) === true) {
          return refuse(GrpcStatus.UNAUTHENTICATED, `the credential of ${identity.role} ${quote(identity.name)} (serial ${serial}) is revoked`);
        }
        return { ...identity, legacy: false, serial };
      }
    }
    if (opts.token === undefined && !opts.tls) return OPEN;
    return undefined;
  };
  return {
    knows: (path) => requirementOf(path) !== undefined,
    authorize(path, call, request) {
      const req = requirementOf(path);
      if (req === undefined) return refuse(GrpcStatus.UNIMPLEMENTED, `${path} has no role requirement`);
      const caller = identify(call);
      if (caller instanceof Error) return caller;
      if (caller === undefined) {
        if (req.role === 'none') return { role: 'reader', name: 'anonymous', legacy: false };
        return refuse(GrpcStatus.UNAUTHENTICATED, opts.tls ? UNAUTH_TLS : UNAUTH_TOKEN);
      }
      return check(path, req, caller, request, opts.onlyAgent) ?? caller;
    },
    checkMessage(path, caller, message) {
      // A stream lives on after its start: a revocation reaches it at its next message.
      if (caller.serial !== undefined && opts.isRevoked?.(caller.serial, caller) === true) {
        return refuse(GrpcStatus.UNAUTHENTICATED, `the credential of ${caller.role} ${quote(caller.name)} (serial ${caller.serial}) is revoked`);
      }
      const req = requirementOf(path);
      return req === undefined ? undefined : check(path, req, caller, message, opts.onlyAgent);
    },
  };
}

/** The callers of calls in flight, for handlers that act on the caller's identity (RenewCertificate). */
const callers = new WeakMap<object, Caller>();

/** Records the caller of `call` (wrapService). */
export function setCaller(call: object, caller: Caller): void {
  callers.set(call, caller);
}

/** The caller `wrapService` found for `call`. */
export function callerOf(call: object): Caller | undefined {
  return callers.get(call);
}
