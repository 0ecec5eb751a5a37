/**
 * How a storage-node container is named and labelled. Labels are the agent's only memory across
 * restarts: `adopt()` finds its containers by `sutra.agent` and rebuilds each launch spec from
 * `sutra.spec`, so nothing else needs to be persisted.
 */
import type { NodeLaunchSpec } from './platform.js';
import { recordedReplication } from './replication-assignment.js';

/** Label keys set on every node container. */
export const LABEL = {
  grid: 'sutra.grid',
  agent: 'sutra.agent',
  node: 'sutra.node',
  cluster: 'sutra.cluster',
  /** The NodeLaunchSpec as JSON, so a restarted agent can re-adopt the node as it was launched. */
  spec: 'sutra.spec',
} as const;

/** Docker names allow `[a-zA-Z0-9][a-zA-Z0-9_.-]*`; anything else in an id becomes `_`. */
function nameSafe(id: string): string {
  return id.replace(/[^a-zA-Z0-9_.-]/g, '_');
}

/** The container name of a node: one name per (agent, node), so a duplicate cannot be created. */
export function containerName(agentId: string, nodeId: string): string {
  return `sutra-${nameSafe(agentId)}-${nameSafe(nodeId)}`;
}

/** Labels of a node container. */
export function nodeLabels(grid: string, agentId: string, spec: NodeLaunchSpec): Record<string, string> {
  return {
    [LABEL.grid]: grid,
    [LABEL.agent]: agentId,
    [LABEL.node]: spec.nodeId,
    [LABEL.cluster]: spec.cluster,
    [LABEL.spec]: JSON.stringify(spec),
  };
}

function isSpec(v: unknown): v is NodeLaunchSpec {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o['nodeId'] === 'string' &&
    Number.isInteger(o['port']) &&
    Number.isInteger(o['memoryMb']) &&
    typeof o['storagePath'] === 'string' &&
    typeof o['cluster'] === 'string' &&
    typeof o['role'] === 'string' &&
    Number.isInteger(o['generation'])
  );
}

/**
 * The launch spec a container was created with, or undefined when its labels are missing, corrupt
 * or disagree with each other (such a container is not one this agent can own).
 */
export function specFromLabels(labels: Readonly<Record<string, string>> | undefined): NodeLaunchSpec | undefined {
  const raw = labels?.[LABEL.spec];
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isSpec(parsed) || parsed.nodeId !== labels?.[LABEL.node]) return undefined;
  return {
    nodeId: parsed.nodeId,
    port: parsed.port,
    memoryMb: parsed.memoryMb,
    storagePath: parsed.storagePath,
    cluster: parsed.cluster,
    role: parsed.role,
    generation: parsed.generation,
    replication: recordedReplication((parsed as { replication?: unknown }).replication, parsed),
  };
}
