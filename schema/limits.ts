/**
 * Every size a spec may have, in one place. The counts and lengths the JSON Schema can express are
 * read from it (grid.schema.json stays the single source of truth); the rest (the text itself, its
 * nesting, the total of nodes, how many problems are reported) live here. Anchors: Kubernetes
 * supports 5,000 nodes, 150,000 pods and 10,000 services per cluster, so a grid of 5,000 agents
 * running 150,000 storage nodes in 10,000 clusters is as large as anything the grid is meant for.
 * The limits exist so that no input, however hostile, makes the parser, the checks or the
 * planner allocate work beyond them.
 */
import { gridSchema } from './grid-schema.generated.js';

const { agents, clusters } = gridSchema.properties;
const { agent, cluster, labels } = gridSchema.$defs;

/** The documented limits of a grid spec. */
export const SPEC_LIMITS = {
  /**
   * Bytes of spec text (UTF-8) written as JSON. Parsing and checking cost about 100 ms per MB
   * (more on a loaded host); 2 MiB holds 5,000 agents with a few labels each and 10,000 clusters.
   */
  maxBytes: 2 * 1024 * 1024,
  /**
   * Bytes of spec text written in YAML's own syntax. The YAML parser costs about a second per
   * megabyte (JSON.parse, a hundredth of that), so a larger grid is written as JSON, which is
   * YAML too: about 1,000 agents and 1,000 clusters fit in this much YAML.
   */
  maxYamlBytes: 256 * 1024,
  /** Nesting of collections; a valid spec needs 6 (`clusters[].placement.selector.key`). */
  maxDepth: 32,
  /** Aliases (`*name`) in a YAML document. */
  maxAliases: 100,
  /** Nodes one alias may expand to (yaml's `maxAliasCount`): "billion laughs" stays small. */
  maxAliasCount: 100,
  /**
   * Bytes of spec text checked against the schema in full, every problem at once. A bigger spec is
   * checked up to its first schema problem: listing every problem of 2 MiB (say 100,000 unknown
   * keys) costs ajv about a second, which is the bound for any one spec.
   */
  maxFullCheckBytes: 512 * 1024,
  /** Diagnostics reported in full; the rest are counted in one last diagnostic. */
  maxDiagnostics: 100,
  /** Agents per grid (Kubernetes: 5,000 nodes per cluster). */
  maxAgents: agents.maxItems,
  /** Clusters per grid (Kubernetes: 10,000 services per cluster). */
  maxClusters: clusters.maxItems,
  /** Nodes per cluster. */
  maxNodesPerCluster: cluster.properties.nodes.maximum,
  /** `capacity.nodes` of one agent (a kubernetes agent stands for a whole Kubernetes cluster). */
  maxAgentCapacityNodes: agent.properties.capacity.properties.nodes.maximum,
  /** Nodes of all clusters together (Kubernetes: 150,000 pods per cluster). */
  maxTotalNodes: 150_000,
  /** Labels of one agent, or entries of one selector. */
  maxLabels: labels.maxProperties,
  /** Characters of a label key (Kubernetes: 253 for the prefix, the name is shorter). */
  maxLabelKeyLength: labels.propertyNames.maxLength,
  /** Characters of a label value. */
  maxLabelValueLength: labels.additionalProperties.maxLength,
  /** Characters of a name or id (a DNS label). */
  maxNameLength: gridSchema.$defs.dnsLabel.maxLength,
  /** Characters of a path (PATH_MAX). */
  maxPathLength: gridSchema.properties.storage.properties.dataPath.maxLength,
} as const;
