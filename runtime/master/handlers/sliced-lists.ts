/**
 * ListNodes and ListAgents answers of a large grid, encoded a slice at a time with the event loop
 * free between slices. Encoded in one go, 10,000 nodes held the master's event loop ~14 ms per
 * call: a client waiting on an apply reads them every few hundred ms, and every heartbeat that
 * arrived meanwhile waited (p99 ~20 ms at 10,000 agents against ~2 ms without the client; measured
 * in BENCHMARKS.md). The service serializes such an answer from its bytes, as ApplySpec's plan
 * (encoded-plan.ts).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { GridMasterService, ListAgentsResponse, ListStorageNodesResponse } from '../../../proto/gen/sutra/grid/v1/grid.pb.js';

/** Items built and encoded per turn of the event loop: ~0.5 ms of work at 500 nodes. */
export const LIST_SLICE = 500;

type SlicedAnswer = ListStorageNodesResponse | ListAgentsResponse;

const encodedAnswers = new WeakMap<SlicedAnswer, Buffer>();

/**
 * `empty` (a list answer without its items) answered with the bytes of `items`, each slice of
 * {@link LIST_SLICE} encoded by `encode` as an answer holding that slice alone. Protobuf
 * concatenates a repeated field's occurrences, so the slices' encodings one after another are the
 * encoding of the whole answer: `empty`'s other fields must be at their defaults. A list of one
 * slice or less is encoded at once.
 */
export async function answerInSlices<T, A extends SlicedAnswer>(empty: A, items: readonly T[], encode: (slice: readonly T[]) => Uint8Array): Promise<A> {
  const parts: Uint8Array[] = [];
  for (let at = 0; at < items.length; at += LIST_SLICE) {
    if (at > 0) await nextTurn();
    parts.push(encode(items.slice(at, at + LIST_SLICE)));
  }
  encodedAnswers.set(empty, Buffer.concat(parts));
  return empty;
}

/** The GridMaster definition with the answers of {@link answerInSlices} serialized from their bytes. */
export function serializeSlicedLists(definition: typeof GridMasterService): typeof GridMasterService {
  const { listNodes, listAgents } = definition;
  return {
    ...definition,
    listNodes: { ...listNodes, responseSerialize: (value: ListStorageNodesResponse): Buffer => encodedAnswers.get(value) ?? listNodes.responseSerialize(value) },
    listAgents: { ...listAgents, responseSerialize: (value: ListAgentsResponse): Buffer => encodedAnswers.get(value) ?? listAgents.responseSerialize(value) },
  };
}
