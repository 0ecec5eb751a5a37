/**
 * Deterministic node identity, as a StatefulSet's: cluster `kg` with 3 nodes owns `kg-0`, `kg-1`,
 * `kg-2`. A node id alone says which slot it fills, so a restarted master, a returning agent and
 * a retried spawn all agree on what exists.
 */

/** The id of the node filling `ordinal` in `cluster`. */
export function nodeIdFor(cluster: string, ordinal: number): string {
  return `${cluster}-${ordinal}`;
}

const ORDINAL = /^(0|[1-9][0-9]*)$/;

/**
 * The ordinal of `nodeId` in `cluster`, or undefined when the id does not follow
 * `<cluster>-<ordinal>` (e.g. a node spawned under another naming scheme).
 */
export function ordinalOf(cluster: string, nodeId: string): number | undefined {
  if (nodeId.length <= cluster.length + 1 || !nodeId.startsWith(cluster) || nodeId[cluster.length] !== '-') {
    return undefined;
  }
  const rest = nodeId.slice(cluster.length + 1);
  if (!ORDINAL.test(rest)) return undefined;
  const n = Number(rest);
  return Number.isSafeInteger(n) ? n : undefined;
}
