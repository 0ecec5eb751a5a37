/**
 * A promise-style StorageService client, to check that a node really answers.
 */
import { credentials, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { StorageServiceClient, type Association, type Concept } from '../../proto/gen/sutra/grid/v1/storage.pb.js';
import { unary } from '../../client/index.js';

type Unary<Req, Res> = Parameters<typeof unary<Req, Res>>[0];

export class TestStorageClient {
  readonly raw: InstanceType<typeof StorageServiceClient>;

  /** `tls`: a channel with a client certificate, for a node under mutual TLS; plaintext without. */
  constructor(address: string, private readonly token?: string, tls?: { credentials: ChannelCredentials; options: ChannelOptions }) {
    this.raw = new StorageServiceClient(address, tls?.credentials ?? credentials.createInsecure(), tls?.options ?? {});
  }

  private call<Req, Res>(method: unknown, req: Req, deadlineMs = 10_000): Promise<Res> {
    return unary(method as Unary<Req, Res>, this.raw, req, this.token, deadlineMs);
  }

  learnConcept(id: string, content: string, attributes: Record<string, string> = {}): Promise<{ id: string; created: boolean }> {
    return this.call(this.raw.learnConcept, { id, content, attributes });
  }

  learnAssociation(a: Association): Promise<{ created: boolean }> {
    return this.call(this.raw.learnAssociation, { association: a });
  }

  queryConcept(id: string, deadlineMs = 10_000): Promise<{ found: boolean; concept?: Concept }> {
    return this.call(this.raw.queryConcept, { id }, deadlineMs);
  }

  neighbors(id: string, type = '', limit = 0): Promise<{ associations: Association[] }> {
    return this.call(this.raw.getNeighbors, { id, type, limit });
  }

  close(): void {
    this.raw.close();
  }
}
