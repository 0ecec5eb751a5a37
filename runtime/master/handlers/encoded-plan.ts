/**
 * ApplySpec answers whose plan arrives already encoded from the spec worker (spec-job.ts): the
 * service serializes them by framing those bytes as the `plan` field, so a plan of tens of MB is
 * neither copied back as objects nor encoded on the event loop that serves heartbeats.
 */
import { encodeApplySpecResponse } from '../../../client/index.js';
import type { ApplySpecResponse, GridMasterService } from '../../../proto/gen/sutra/grid/v1/grid.pb.js';

const encodedPlans = new WeakMap<ApplySpecResponse, Uint8Array>();

/** An ApplySpec answer carrying `encodedPlan` (the bytes of the Plan message) as its plan. */
export function withEncodedPlan(answer: Omit<ApplySpecResponse, 'plan'>, encodedPlan: Uint8Array): ApplySpecResponse {
  const response: ApplySpecResponse = { generation: answer.generation, changed: answer.changed };
  encodedPlans.set(response, encodedPlan);
  return response;
}

/** The GridMaster definition with ApplySpec answers of {@link withEncodedPlan} serialized from their bytes. */
export function serializeEncodedPlans(definition: typeof GridMasterService): typeof GridMasterService {
  const method = definition.applySpec;
  return {
    ...definition,
    applySpec: {
      ...method,
      responseSerialize: (value: ApplySpecResponse): Buffer => {
        const plan = encodedPlans.get(value);
        if (plan === undefined) return method.responseSerialize(value);
        const bytes = encodeApplySpecResponse(value, plan);
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      },
    },
  };
}
