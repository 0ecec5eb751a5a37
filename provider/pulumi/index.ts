/**
 * Pulumi integration: the `Grid` dynamic resource, which applies a grid spec to a running master
 * and converges it, plus the serializable provider object it is built on.
 */
export { Grid, type GridArgs, type GridState } from './grid-resource.js';
export { gridProvider } from './grid-provider.js';
export type { ClusterHealthOutput, GridProviderInputs, GridProviderOutputs, Placement } from './grid-inputs.js';
export { GridInitError, PulumiGridError, type PulumiGridErrorCode } from './errors.js';
