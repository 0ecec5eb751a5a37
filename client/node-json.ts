/**
 * One node as `list-nodes --json` prints it, shared by the CLI and the HTTP API (which adds a few
 * fields): the same names and meaning in both, so a script can switch between them.
 */

/** The fields of a node `list-nodes --json` prints (a GridNode, or the master's own node view). */
export interface NodeJsonSource {
  readonly nodeId: string;
  readonly agentId: string;
  readonly port: number;
  readonly pid: number;
  readonly status: string;
  readonly restarts: number;
  readonly storagePath: string;
  readonly memoryMb: number;
  readonly cluster: string;
  readonly role: string;
  readonly replication?: { readonly term: number; readonly logPosition: number } | undefined;
}

/** `list-nodes --json`'s object for one node; `term` and `logPosition` are 0 without replication. */
export function nodeListJson(n: NodeJsonSource): Record<string, unknown> {
  return {
    nodeId: n.nodeId,
    agentId: n.agentId,
    port: n.port,
    pid: n.pid,
    status: n.status,
    restarts: n.restarts,
    storagePath: n.storagePath,
    memoryMb: n.memoryMb,
    cluster: n.cluster,
    role: n.role,
    term: n.replication?.term ?? 0,
    logPosition: n.replication?.logPosition ?? 0,
  };
}
