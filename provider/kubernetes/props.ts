import { DEFAULT_MASTER_PORT } from '../../client/index.js';
import type * as pulumi from '@pulumi/pulumi';
import type * as k8s from '@pulumi/kubernetes';
import { GridKubernetesError } from './errors.js';

/** The grid version this component deploys by default; kept equal to package.json (a test checks). */
export const GRID_VERSION = '0.1.0';

/** Where an agent keeps its data dir (and so its storage nodes' data). */
export type AgentDataVolume =
  /**
   * A directory on the Kubernetes node. Survives agent pod replacement (DaemonSet rolling update,
   * eviction), as kubelet's and Nomad clients' state does; the storage nodes' data lives here.
   */
  | { readonly type: 'hostPath'; /** @default '/var/lib/sutra-grid/agent' */ readonly path?: string }
  /** Scratch space deleted with the pod: for throwaway grids and clusters that forbid hostPath. */
  | { readonly type: 'emptyDir'; /** e.g. '20Gi'; @default unlimited */ readonly sizeLimit?: string };

/** CPU/memory requests and limits of one container, in Kubernetes quantity syntax. */
export type ResourceRequirements = k8s.types.input.core.v1.ResourceRequirements;

/** Props of {@link GridOnKubernetes}. Everything but the token and the spec has a default. */
export interface GridOnKubernetesProps {
  /** Namespace created for the grid; every namespaced object goes there. @default 'sutra-grid' */
  readonly namespace?: string;
  /** Grid image (entrypoint `sutra-grid`) for master, agents and the apply job. @default `sutra-grid:${GRID_VERSION}` */
  readonly image?: string;
  /** @default 'IfNotPresent' */
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Size of the master's PersistentVolumeClaim (its data dir: applied spec, events). @default '1Gi' */
  readonly masterStorageSize?: string;
  /** StorageClass of the master's claim. @default the cluster's default StorageClass */
  readonly storageClassName?: string;
  /** Node labels an agent pod requires; a node that matches runs exactly one agent. @default {} (every schedulable node) */
  readonly agentNodeSelector?: Readonly<Record<string, string>>;
  /** Where agents keep their data dir. @default { type: 'hostPath', path: '/var/lib/sutra-grid/agent' } */
  readonly agentDataVolume?: AgentDataVolume;
  /**
   * Container resources. Storage nodes run as processes inside the agent container, so the
   * agent's memory limit bounds the sum of its nodes' memory.
   * @default master: requests 100m/128Mi, limit 512Mi; agent: requests 250m/512Mi, limit 4Gi
   */
  readonly resources?: { readonly master?: ResourceRequirements; readonly agent?: ResourceRequirements };
  /** Shared grid token. Marked secret by the component; it is written only into a Secret. */
  readonly token: pulumi.Input<string>;
  /** Path of the grid.yaml to deploy. Exactly one of `specPath` and `specText`. */
  readonly specPath?: string;
  /** Text of the grid.yaml to deploy. Exactly one of `specPath` and `specText`. */
  readonly specText?: string;
  /**
   * Run a Job that applies the spec to the master once it is ready; its name carries the spec's
   * hash, so a changed spec replaces the Job and applies again. @default true
   */
  readonly applySpec?: boolean;
  /** UID/GID the grid runs as (non-root); the image's `node` user. @default 1000 */
  readonly runAsUser?: number;
  /** DNS domain of the cluster, for the master's address. @default 'cluster.local' */
  readonly clusterDomain?: string;
}

/** Props with every default filled in and every value checked. */
export interface CompiledKubernetesProps {
  readonly namespace: string;
  readonly image: string;
  readonly imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  readonly masterStorageSize: string;
  readonly storageClassName: string | undefined;
  readonly agentNodeSelector: Readonly<Record<string, string>>;
  readonly agentDataVolume: AgentDataVolume;
  readonly masterResources: ResourceRequirements;
  readonly agentResources: ResourceRequirements;
  readonly applySpec: boolean;
  readonly runAsUser: number;
  readonly clusterDomain: string;
}

/** Fixed object names: known in advance so the master's DNS name is stable. */
export const NAMES = {
  master: 'sutra-grid-master',
  agent: 'sutra-grid-agent',
  token: 'sutra-grid-token',
  spec: 'sutra-grid-spec',
  masterData: 'sutra-grid-master-data',
  applyJob: 'sutra-grid-apply',
} as const;

/** Ports and paths inside the containers. */
export const LAYOUT = {
  masterPort: DEFAULT_MASTER_PORT,
  agentPort: 8001,
  tokenDir: '/var/run/secrets/sutra-grid',
  tokenFile: '/var/run/secrets/sutra-grid/token',
  specDir: '/etc/sutra',
  specFile: '/etc/sutra/grid.yaml',
  masterDataDir: '/var/lib/sutra-grid/master',
  agentDataDir: '/var/lib/sutra-grid/agent',
  tmpDir: '/tmp',
} as const;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const QUANTITY = /^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;

function invalid(field: string, message: string): GridKubernetesError {
  return new GridKubernetesError('K8S_INVALID_PROPS', field, message);
}

/** Fills defaults and rejects bad values with an error naming the prop. */
export function compileKubernetesProps(props: GridOnKubernetesProps): CompiledKubernetesProps {
  const namespace = props.namespace ?? 'sutra-grid';
  if (!DNS_LABEL.test(namespace)) throw invalid('namespace', `"${namespace}" is not a DNS-1123 label`);
  const image = props.image ?? `sutra-grid:${GRID_VERSION}`;
  if (image.trim() === '' || /\s/.test(image)) throw invalid('image', `"${image}" is not an image reference`);
  const masterStorageSize = props.masterStorageSize ?? '1Gi';
  if (!QUANTITY.test(masterStorageSize)) throw invalid('masterStorageSize', `"${masterStorageSize}" is not a quantity like 1Gi`);
  if (props.storageClassName !== undefined && !/^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(props.storageClassName)) {
    throw invalid('storageClassName', `"${props.storageClassName}" is not a valid name`);
  }
  const agentDataVolume = props.agentDataVolume ?? { type: 'hostPath', path: LAYOUT.agentDataDir };
  if (agentDataVolume.type === 'hostPath' && agentDataVolume.path !== undefined && !agentDataVolume.path.startsWith('/')) {
    throw invalid('agentDataVolume.path', `"${agentDataVolume.path}" must be an absolute path`);
  }
  if (agentDataVolume.type === 'emptyDir' && agentDataVolume.sizeLimit !== undefined && !QUANTITY.test(agentDataVolume.sizeLimit)) {
    throw invalid('agentDataVolume.sizeLimit', `"${agentDataVolume.sizeLimit}" is not a quantity like 20Gi`);
  }
  const runAsUser = props.runAsUser ?? 1000;
  // UID 0 would defeat runAsNonRoot; kubelet refuses such a pod only at start, far from the cause.
  if (!Number.isInteger(runAsUser) || runAsUser < 1) throw invalid('runAsUser', `${runAsUser} must be a positive integer (non-root)`);
  const clusterDomain = props.clusterDomain ?? 'cluster.local';
  if (!/^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(clusterDomain)) throw invalid('clusterDomain', `"${clusterDomain}" is not a DNS name`);
  return {
    namespace,
    image,
    imagePullPolicy: props.imagePullPolicy ?? 'IfNotPresent',
    masterStorageSize,
    storageClassName: props.storageClassName,
    agentNodeSelector: props.agentNodeSelector ?? {},
    agentDataVolume,
    masterResources: props.resources?.master ?? {
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { memory: '512Mi' },
    },
    agentResources: props.resources?.agent ?? {
      requests: { cpu: '250m', memory: '512Mi' },
      limits: { memory: '4Gi' },
    },
    applySpec: props.applySpec ?? true,
    runAsUser,
    clusterDomain,
  };
}
