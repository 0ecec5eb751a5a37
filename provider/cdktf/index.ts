/**
 * Public face of `provider/cdktf`: a Terraform CDK stack that deploys a grid on a Docker host.
 * cdktf 0.21 and @cdktf/provider-docker 12 are archived upstream, so nothing outside this folder
 * imports them.
 */
export { GridDockerStack } from './grid-docker-stack.js';
export {
  GRID_VERSION,
  compileDockerStackProps,
  type GridDockerStackProps,
  type CompiledDockerStackProps,
} from './props.js';
export { GridCdktfError, type CdktfErrorCode } from './errors.js';
