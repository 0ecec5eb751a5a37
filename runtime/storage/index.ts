/**
 * The bundled storage-server: a durable StorageService with a health service, and leader/replica
 * replication (StorageControl, StorageReplication). Agents run it as the default workload;
 * `STORAGE_SERVER_ENTRY` is the lean script they spawn.
 */
export { StorageServer, type StorageServerState } from './storage-server.js';
export { ConceptStore, conceptIdOf, type StoredConcept, type StoredAssociation } from './concept-store.js';
export { RecordLog, frame, unframe } from './record-log.js';
export {
  compileReplicationFlags,
  STANDALONE,
  DEFAULT_SYNC_TIMEOUT_MS,
  MAX_SYNC_QUORUM,
  MAX_TERM,
  type ReplicationFlags,
  type ReplicationOptions,
  type StorageRoleName,
  type DurabilityName,
} from './replication-options.js';
export { TERM_FILE, type RoleAssignment } from './term-file.js';
export { compileStorageFlags, parseStorageArgv, type StorageServerFlags, type StorageServerOptions } from './storage-options.js';
export { runStorageServer, listeningLine } from './run-storage-server.js';
export { EXIT_FAILED, EXIT_PORT_TAKEN } from './exit-codes.js';

import { storageServerEntry } from './entry.js';

export { storageServerEntry };

/** Absolute path of the script agents spawn (the bundle once `npm run build` made it): see entry.ts. */
export const STORAGE_SERVER_ENTRY: string = storageServerEntry();
