/**
 * Public face of `provider/kubernetes`: the `GridOnKubernetes` Pulumi component that deploys a
 * whole grid (master, agents, spec, token) on a Kubernetes cluster.
 */
export { GridOnKubernetes, GRID_ON_KUBERNETES_TYPE } from './grid-on-kubernetes.js';
export {
  GRID_VERSION,
  compileKubernetesProps,
  type GridOnKubernetesProps,
  type CompiledKubernetesProps,
  type AgentDataVolume,
  type EtcdSource,
  type GridCa,
  type ResourceRequirements,
} from './props.js';
export { GridKubernetesError, type KubernetesErrorCode } from './errors.js';
