import { StorageServiceClient } from '../../proto/gen/sutra/grid/v1/storage.pb.js';
import { authMetadata, clientChannelOptions, insecureCredentials } from '../../client/transport.js';
import { mirrorClientFrom, type MirrorClient } from '../events/index.js';

/** The master's client to the storage-server its events are mirrored to, and how to close it. */
export interface EventStorageClient {
  readonly client: MirrorClient;
  close(): void;
}

/** Dials the storage-server at `address` (`--event-storage`), sending the master's token. */
export function connectEventStorage(address: string, token: string | undefined): EventStorageClient {
  const raw = new StorageServiceClient(address, insecureCredentials, clientChannelOptions());
  return { client: mirrorClientFrom(raw, authMetadata(token)), close: () => raw.close() };
}
