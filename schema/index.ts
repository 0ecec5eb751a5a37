/**
 * The spec layer's public face: the grid.yaml schema, its types, the parser, the compiler and the
 * unit helpers. The lowest layer: it imports nothing of ours.
 */
export { gridSchema } from './grid-schema.generated.js';
export type { GridSpecInput, GridSpecDefaulted, AgentSpecInput, ClusterSpecInput, SizeInput } from './spec-types.js';
export type {
  CompiledGridSpec,
  CompiledAgentSpec,
  CompiledClusterSpec,
  CompiledMonitoring,
  CompiledRestartPolicy,
  CompiledReplication,
  CompiledUpdatePolicy,
  CompiledStorageDefaults,
  Durability,
  Platform,
  Topology,
  PlacementStrategy,
  NodeRole,
} from './compiled-spec.js';
export {
  parseGridSpec,
  parseGridSpecJson,
  validateGridSpecObject,
  loadGridSpecFile,
  loadGridSpecOrThrow,
  compileGridSpec,
  type ParseResult,
  type ParseSuccess,
  type ParseFailure,
  type LoadedGridSpec,
} from './parse.js';
export { formatDiagnostic, formatDiagnostics, summarizeDiagnostics, hasErrors } from './diagnostics.js';
export { GridSpecError, SpecError, UnitError, type SpecErrorCode, type Severity, type Diagnostic } from './errors.js';
export { parseDuration, formatDuration, parseSize, formatSize, MAX_DURATION_MS } from './units.js';
export { splitAddress } from './port-checks.js';
export { canonicalJson, specHash } from './spec-hash.js';
export { SPEC_LIMITS } from './limits.js';
