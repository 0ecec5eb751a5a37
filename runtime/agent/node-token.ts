/**
 * The token storage nodes check on calls when they must authenticate (Docker bridge networking).
 * It is derived from the control-plane token, never the token itself: a node (whose workload may
 * be hostile) holds and receives only this value, which cannot be turned back into the token that
 * drives the master and the agents. Anyone holding the control-plane token derives it the same way.
 */
import { createHmac } from 'node:crypto';

/** Fixed HMAC message: changing it changes every node token (a deliberate, versioned break). */
const NODE_TOKEN_CONTEXT = 'sutra-grid storage node token v1';

/**
 * The storage-node token for a control-plane token: HMAC-SHA256(key = control token, message =
 * "sutra-grid storage node token v1"), hex. Callers of a bridge-mode node present it as
 * `authorization: Bearer <node token>`.
 */
export function nodeToken(controlToken: string): string {
  return createHmac('sha256', controlToken).update(NODE_TOKEN_CONTEXT).digest('hex');
}
