import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import {
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
import type { ConceptStore } from './concept-store.js';

/**
 * StorageService over a ConceptStore, ready for `startGrpcServer`: the storage-server's wire edge,
 * where requests become store calls. Token check and status mapping come from wrapService.
 */
export function createStorageService(store: ConceptStore, token: string | undefined): { definition: typeof StorageServiceService; impl: UntypedServiceImplementation } {
  const impl = wrapService(
    StorageServiceService,
    {
      async learnConcept(req: LearnConceptRequest): Promise<LearnConceptResponse> {
        return store.learnConcept(req.id, req.content, req.attributes);
      },
      async learnAssociation(req: LearnAssociationRequest): Promise<LearnAssociationResponse> {
        const a = req.association;
        if (a === undefined) throw new RuntimeError('INVALID_ARGUMENT', 'association: required', { field: 'association' });
        return store.learnAssociation(a);
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
    },
    token,
  );
  return { definition: StorageServiceService, impl };
}
