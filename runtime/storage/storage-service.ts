import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import {
  StorageControlService,
  StorageReplicationService,
  StorageServiceService,
  type GetNeighborsRequest,
  type GetNeighborsResponse,
  type LearnAssociationRequest,
  type LearnAssociationResponse,
  type LearnConceptRequest,
  type LearnConceptResponse,
  type QueryConceptRequest,
  type QueryConceptResponse,
} from '../../proto/gen/sutra/grid/v1/storage.pb.js';
import { RuntimeError } from '../errors.js';
import { wrapService } from '../common/grpc-server.js';
import type { CallGuard } from '../common/call-guard.js';
import type { ConceptStore } from './concept-store.js';
import { controlHandlers, replicationHandlers } from './control-handlers.js';
import type { ReplicationNode } from './replication-node.js';

/** One gRPC service ready for `startGrpcServer`. */
interface ServiceEntry {
  readonly definition: typeof StorageServiceService | typeof StorageControlService | typeof StorageReplicationService;
  readonly impl: UntypedServiceImplementation;
}

/**
 * The storage-server's wire edge, ready for `startGrpcServer`: StorageService over the store,
 * StorageControl and StorageReplication over the node. The caller check (the token, or under mutual TLS
 * the role table of rpc-roles.ts) and status mapping come from wrapService.
 */
export function createStorageServices(store: ConceptStore, node: ReplicationNode, token: string | undefined | CallGuard): ServiceEntry[] {
  return [
    { definition: StorageServiceService, impl: wrapService(StorageServiceService, storageHandlers(store, node), token) },
    { definition: StorageControlService, impl: wrapService(StorageControlService, controlHandlers(node), token) },
    { definition: StorageReplicationService, impl: wrapService(StorageReplicationService, replicationHandlers(node), token) },
  ];
}

/**
 * Writes go through the node: refused on a replica and on a leader without its lease, stamped with the term (checked and appended in
 * one tick, so a role change cannot fall between), acknowledged when the durability allows and the lease still holds.
 */
function storageHandlers(store: ConceptStore, node: ReplicationNode): Record<string, (req: never) => Promise<unknown>> {
  return {
    async learnConcept(req: LearnConceptRequest): Promise<LearnConceptResponse> {
      node.checkWritable();
      const term = node.term;
      const r = await store.learnConcept(req.id, req.content, req.attributes, term);
      await node.acknowledge(r.position, term);
      return { id: r.id, created: r.created };
    },
    async learnAssociation(req: LearnAssociationRequest): Promise<LearnAssociationResponse> {
      const a = req.association;
      if (a === undefined) throw new RuntimeError('INVALID_ARGUMENT', 'association: required', { field: 'association' });
      node.checkWritable();
      const term = node.term;
      const r = await store.learnAssociation(a, term);
      await node.acknowledge(r.position, term);
      return { created: r.created };
    },
    async queryConcept(req: QueryConceptRequest): Promise<QueryConceptResponse> {
      if (req.id === '') throw new RuntimeError('INVALID_ARGUMENT', 'id: required', { field: 'id' });
      const c = store.getConcept(req.id);
      return c === undefined ? { found: false, concept: undefined } : { found: true, concept: { ...c, attributes: { ...c.attributes } } };
    },
    async getNeighbors(req: GetNeighborsRequest): Promise<GetNeighborsResponse> {
      if (req.id === '') throw new RuntimeError('INVALID_ARGUMENT', 'id: required', { field: 'id' });
      return { associations: store.neighbors(req.id, req.type, req.limit).map((a) => ({ ...a })) };
    },
  };
}
