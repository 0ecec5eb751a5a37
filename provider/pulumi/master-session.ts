/**
 * The provider's side of the client layer: each provider call opens its own short-lived
 * {@link MasterClient} (the serialized provider must capture no live object), and the client
 * layer's errors become {@link PulumiGridError}s naming the master, the call and the input to fix.
 */
import { ClientError, withMaster as withMasterClient, type MasterClient, type MasterClientOptions } from '../../client/index.js';
import { PulumiGridError } from './errors.js';

/** Where the master (or masters) are, the token if one is required, and the TLS credential. */
export type MasterTarget = MasterClientOptions;

/** Runs `fn` with a client of the master at `target`, always closing it; failures are PulumiGridErrors. */
export async function withMaster<T>(target: MasterTarget, fn: (master: MasterClient) => Promise<T>): Promise<T> {
  try {
    return await withMasterClient(target, fn);
  } catch (err) {
    throw err instanceof ClientError ? translateError(target.address, err) : err;
  }
}

/** Maps a client-layer error to the provider's codes, keeping the master's own wording. */
export function translateError(address: string, err: ClientError): PulumiGridError {
  const { rpc, details } = err.context as { rpc?: string; details?: string };
  const where = `master ${address} (${rpc})`;
  switch (err.code) {
    case 'UNAVAILABLE':
    case 'DEADLINE_EXCEEDED':
      return new PulumiGridError('GRID_MASTER_UNREACHABLE', 'masterAddress', `${where} is unreachable: ${details}`, { cause: err });
    case 'UNAUTHENTICATED':
      return new PulumiGridError('GRID_UNAUTHENTICATED', 'token', `${where} refused the credential (token or TLS certificate): ${details}`, { cause: err });
    case 'PERMISSION_DENIED':
      return new PulumiGridError('GRID_PERMISSION_DENIED', 'tlsCert',
        `${where} refused the call: ${details}. Give tlsCert/tlsKey of an operator (or admin) credential`, { cause: err });
    case 'STALE_GENERATION':
      return new PulumiGridError('GRID_STALE_GENERATION', 'generation',
        `${where}: ${details}. The spec on the master changed since this stack last saw it: run \`pulumi refresh\` to see the drift, then \`pulumi up\` again`, { cause: err });
    case 'SPEC_INVALID':
    case 'INVALID_ARGUMENT':
      // Refused before sending (too big): the client said why; otherwise the master did.
      return new PulumiGridError('GRID_SPEC_INVALID', 'spec',
        rpc === undefined ? `not sent to master ${address}: ${String(err.context['reason'])}` : `${where} rejected the spec: ${details}`, { cause: err });
    default:
      return new PulumiGridError('GRID_MASTER_ERROR', '', rpc === undefined ? err.message : `${where} failed: ${details}`, { cause: err });
  }
}
