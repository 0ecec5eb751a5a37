/**
 * A promise-style StorageService client, to check that a node really answers.
 */
import { StorageServiceClient, type LearnConceptResponse, type QueryConceptResponse } from '../../proto/gen/sutra/grid/v1/storage.pb.js';
import { insecureCredentials, unary } from '../../runtime/common/grpc-client.js';

export class TestStorageClient {
  private readonly raw: StorageServiceClient;

  constructor(address: string) {
    this.raw = new StorageServiceClient(address, insecureCredentials);
  }

  learn(id: string, content: string): Promise<LearnConceptResponse> {
    return unary(this.raw.learnConcept, this.raw, { id, content, attributes: {} }, undefined, 5_000);
  }

  query(id: string): Promise<QueryConceptResponse> {
    return unary(this.raw.queryConcept, this.raw, { id }, undefined, 5_000);
  }

  close(): void {
    this.raw.close();
  }
}
