import { Metadata, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import type { StorageServiceClient } from '../../proto/gen/sutra/grid/v1/storage.pb.js';
import type { MirrorClient } from './storage-mirror.js';

/**
 * The mirror's wire edge: a generated `StorageServiceClient` as a {@link MirrorClient} (with an
 * optional token and a per-call deadline).
 */
export function mirrorClientFrom(client: StorageServiceClient, metadata?: Metadata, timeoutMs = 5000): MirrorClient {
  const call = <Req, Res>(
    fn: (req: Req, md: Metadata, opts: Partial<CallOptions>, cb: (err: ServiceError | null, res: Res) => void) => unknown,
    req: Req,
  ): Promise<Res> =>
    new Promise((resolve, reject) => {
      fn.call(client, req, metadata ?? new Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res)));
    });
  return {
    learnConcept: (c) => call(client.learnConcept as never, { id: c.id, content: c.content, attributes: { ...c.attributes } }),
    learnAssociation: (a) => call(client.learnAssociation as never, { association: { ...a } }),
  };
}
