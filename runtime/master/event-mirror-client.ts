import { StorageServiceClient } from '../../proto/gen/sutra/grid/v1/storage.pb.js';
import { authMetadata, clientChannelOptions, insecureCredentials, TLS_CHANNEL_OPTIONS, tlsChannelCredentials, type TlsSource } from '../../client/transport.js';
import { mirrorClientFrom, type MirrorClient } from '../events/index.js';

/** The master's client to the storage-server its events are mirrored to, and how to close it. */
export interface EventStorageClient {
  readonly client: MirrorClient;
  close(): void;
}

/**
 * Dials the storage-server at `address` (`--event-storage`). With the grid's TLS (`tls`, the
 * master's own credential) the server must present a `node` certificate of the grid CA (the
 * operator issues it one: `cert issue --role node`), and the master is known to it by its own
 * certificate; without, the master's token is sent.
 */
export function connectEventStorage(address: string, token: string | undefined, tls?: TlsSource): EventStorageClient {
  const raw = tls !== undefined
    ? new StorageServiceClient(address, tlsChannelCredentials(tls, { role: 'node' }), clientChannelOptions(TLS_CHANNEL_OPTIONS))
    : new StorageServiceClient(address, insecureCredentials, clientChannelOptions());
  return { client: mirrorClientFrom(raw, authMetadata(tls !== undefined ? undefined : token)), close: () => raw.close() };
}
