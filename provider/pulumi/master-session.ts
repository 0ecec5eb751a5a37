/**
 * A short-lived connection to the grid master for one provider call. The provider never keeps a
 * client between calls (the serialized provider must capture no live object), so each method opens
 * a session, makes its calls, and closes it. gRPC failures become {@link PulumiGridError}s whose
 * message names the master and, where the master said so, the field.
 */
import { credentials, Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import {
  GridMasterClient,
  type ApplySpecResponse,
  type GetClusterStatusResponse,
  type GetSpecResponse,
} from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { PulumiGridError } from './errors.js';
import { authMetadata, clientChannelOptions, specSizeProblem } from '../../client/index.js';

/** The master's metadata key and scheme for the shared token (runtime/common/token.ts). */

/** Per-call deadline: long enough for a loaded two-core machine, short enough for a stuck master. */
const CALL_TIMEOUT_MS = 15_000;

/** What a session needs: where the master is and the token, if the master requires one. */
export interface MasterTarget {
  readonly address: string;
  readonly token?: string;
  /** Per-call deadline. @default 15000 */
  readonly callTimeoutMs?: number;
}

type Unary<Req, Res> = (
  req: Req,
  md: Metadata,
  opts: { deadline: Date },
  cb: (err: ServiceError | null, res: Res) => void,
) => unknown;

/** One open connection to the master; {@link withMaster} opens and closes it. */
export class MasterSession {
  readonly address: string;
  readonly #client: GridMasterClient;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;

  constructor(target: MasterTarget) {
    this.address = target.address;
    this.#token = target.token;
    this.#timeoutMs = target.callTimeoutMs ?? CALL_TIMEOUT_MS;
    this.#client = new GridMasterClient(target.address, credentials.createInsecure(), clientChannelOptions());
  }

  /** The applied spec; `specJson` is '' when the master holds none. */
  getSpec(): Promise<GetSpecResponse> {
    return this.#call('GetSpec', this.#client.getSpec, {});
  }

  /** Plans (and unless `dryRun`, stores) the spec; refused when `expectedGeneration` is stale. */
  applySpec(specJson: string, expectedGeneration: number | undefined, dryRun: boolean): Promise<ApplySpecResponse> {
    const tooBig = specSizeProblem(specJson);
    // Refused here with the limit named, rather than by the transport's "message larger than max".
    if (tooBig !== undefined) return Promise.reject(new PulumiGridError('GRID_SPEC_INVALID', 'spec', `not sent to master ${this.address}: ${tooBig}`));
    return this.#call('ApplySpec', this.#client.applySpec, { specJson, expectedGeneration, dryRun });
  }

  /**
   * Removes the applied spec, named by its generation (and, when given, the grid's name); the
   * master then stops its nodes. Returns the new generation.
   */
  async deleteSpec(expectedGeneration: number, gridName = ''): Promise<number> {
    const res = await this.#call('DeleteSpec', this.#client.deleteSpec, { expectedGeneration, gridName });
    return res.generation;
  }

  getClusterStatus(): Promise<GetClusterStatusResponse> {
    return this.#call('GetClusterStatus', this.#client.getClusterStatus, {});
  }

  async listNodes(): Promise<NodeInfo[]> {
    const res = await this.#call('ListNodes', this.#client.listNodes, { agentId: '', cluster: '' });
    return res.nodes;
  }

  close(): void {
    this.#client.close();
  }

  #call<Req, Res>(rpc: string, method: Unary<Req, Res>, req: Req): Promise<Res> {
    const md = authMetadata(this.#token !== '' ? this.#token : undefined);
    return new Promise<Res>((resolve, reject) => {
      method.call(this.#client, req, md, { deadline: new Date(Date.now() + this.#timeoutMs) }, (err, res) => {
        if (err) reject(translateError(this.address, rpc, err));
        else resolve(res);
      });
    });
  }
}

/** Opens a session, runs `fn`, and always closes the session. */
export async function withMaster<T>(target: MasterTarget, fn: (m: MasterSession) => Promise<T>): Promise<T> {
  const session = new MasterSession(target);
  try {
    return await fn(session);
  } finally {
    session.close();
  }
}

/** Maps a gRPC failure to the provider's error codes, keeping the master's own wording. */
export function translateError(address: string, rpc: string, err: ServiceError): PulumiGridError {
  const detail = err.details || err.message;
  const where = `master ${address} (${rpc})`;
  switch (err.code) {
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.DEADLINE_EXCEEDED:
      return new PulumiGridError('GRID_MASTER_UNREACHABLE', 'masterAddress', `${where} is unreachable: ${detail}`, { cause: err });
    case GrpcStatus.UNAUTHENTICATED:
      return new PulumiGridError('GRID_UNAUTHENTICATED', 'token', `${where} refused the token: ${detail}`, { cause: err });
    case GrpcStatus.FAILED_PRECONDITION:
      // Only the declarative calls carry an expected generation; elsewhere it means something else.
      if (rpc !== 'ApplySpec' && rpc !== 'DeleteSpec') break;
      return new PulumiGridError(
        'GRID_STALE_GENERATION',
        'generation',
        `${where}: ${detail}. The spec on the master changed since this stack last saw it: run \`pulumi refresh\` to see the drift, then \`pulumi up\` again`,
        { cause: err },
      );
    case GrpcStatus.INVALID_ARGUMENT:
      return new PulumiGridError('GRID_SPEC_INVALID', 'spec', `${where} rejected the spec: ${detail}`, { cause: err });
    default:
      break;
  }
  return new PulumiGridError('GRID_MASTER_ERROR', '', `${where} failed: ${detail}`, { cause: err });
}
