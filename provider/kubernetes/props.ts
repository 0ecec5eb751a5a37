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

/** The grid CA, PEM: the masters issue every certificate of the grid from it. */
export interface GridCa {
  /** The CA certificate (public). */
  readonly certPem: pulumi.Input<string>;
  /** The CA private key: marked secret by the component and written only into a Secret the masters mount. */
  readonly keyPem: pulumi.Input<string>;
}

/** Where the masters keep their state when there are several of them. */
export type EtcdSource =
  /** An etcd of `replicas` members run by the component: a StatefulSet with a headless Service. */
  | {
      readonly type: 'inCluster';
      /** @default 3 */
      readonly replicas?: 3 | 5;
      /** @default 'registry.k8s.io/etcd:3.5.15-0' */
      readonly image?: string;
      /** Size of each member's claim. @default '2Gi' */
      readonly storageSize?: string;
    }
  /** An existing etcd: its client URLs' host:port, and the client TLS files it requires. */
  | {
      readonly type: 'external';
      readonly endpoints: readonly string[];
      /** PEM texts for `--etcd-ca/--etcd-cert/--etcd-key`; kept in a Secret, the key marked secret. */
      readonly tls?: { readonly caPem: pulumi.Input<string>; readonly certPem?: pulumi.Input<string>; readonly keyPem?: pulumi.Input<string> };
    };

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
  /**
   * Mutual TLS on the master's and agents' gRPC ports (they listen beyond loopback in a pod).
   * Needs `ca`. Off: the shared token alone, in clear inside the cluster. @default true
   */
  readonly tls?: boolean;
  /**
   * The grid CA (like kubeadm's `/etc/kubernetes/pki/ca.{crt,key}`): every master issues from it,
   * so several masters trust one another's certificates, and the agents pin its hash. Make one
   * with `sutra-grid cert issue --data-dir ./grid-ca --role admin --name you --out ./admin`
   * (`./grid-ca/pki/ca.pem`, `ca-key.pem`; it also gives you an admin credential). Required with `tls`.
   */
  readonly ca?: GridCa;
  /**
   * One-time agent join tokens by agent id (the Kubernetes node name), made once the masters run
   * with `sutra-grid token create --role agent`. Kept in one Secret mounted as files; each agent
   * joins with its own (`--join-file`, `--ca-hash` of `ca`) and keeps its certificate in its data
   * dir, so a restarted pod does not need the token again. With `tls` and no tokens, no agents
   * (and no apply Job) are deployed yet: the first `pulumi up` brings up the masters only.
   */
  readonly agentJoinTokens?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * Number of masters. 1: a Deployment with its state in files on a claim. 3 or 5: a StatefulSet
   * electing one leader through etcd (`--store etcd://`, `--advertise` its pod DNS name); agents
   * and the apply Job are given every master's address. @default 1
   */
  readonly masters?: 1 | 3 | 5;
  /** With several masters: the etcd they share. @default { type: 'inCluster', replicas: 3 } */
  readonly etcd?: EtcdSource;
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
  readonly tls: boolean;
  readonly masters: 1 | 3 | 5;
  /** Undefined with one master (file store). */
  readonly etcd: CompiledEtcd | undefined;
}

/** The etcd of several masters, checked. */
export type CompiledEtcd =
  | { readonly type: 'inCluster'; readonly replicas: 3 | 5; readonly image: string; readonly storageSize: string }
  | { readonly type: 'external'; readonly endpoints: readonly string[]; readonly tls: Extract<EtcdSource, { type: 'external' }>['tls'] };

/** Fixed object names: known in advance so the master's DNS name is stable. */
export const NAMES = {
  master: 'sutra-grid-master',
  agent: 'sutra-grid-agent',
  token: 'sutra-grid-token',
  spec: 'sutra-grid-spec',
  masterData: 'sutra-grid-master-data',
  applyJob: 'sutra-grid-apply',
  /** Headless Service giving each master of a StatefulSet its own DNS name. */
  masterPods: 'sutra-grid-master-pods',
  /** The CA certificate and key (type kubernetes.io/tls): masters only. */
  ca: 'sutra-grid-ca',
  /** The CA certificate alone, for pods that check the masters (the apply Job). */
  caCert: 'sutra-grid-ca-cert',
  agentJoin: 'sutra-grid-agent-join',
  etcd: 'sutra-grid-etcd',
  etcdClient: 'sutra-grid-etcd-client',
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
  caDir: '/var/run/secrets/sutra-grid/ca',
  caCertDir: '/var/run/secrets/sutra-grid/ca-cert',
  joinDir: '/var/run/secrets/sutra-grid/join',
  etcdClientDir: '/var/run/secrets/sutra-grid/etcd',
  etcdDataDir: '/var/lib/etcd',
  etcdClientPort: 2379,
  etcdPeerPort: 2380,
  etcdMetricsPort: 2381,
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
  const tls = props.tls ?? true;
  if (tls && props.ca === undefined) {
    throw invalid('ca', 'is required with tls (the default): the grid CA every master issues from; see the prop\'s documentation to make one, or set tls: false');
  }
  const masters = props.masters ?? 1;
  if (masters !== 1 && masters !== 3 && masters !== 5) throw invalid('masters', `${String(masters)} must be 1, 3 or 5`);
  if (masters === 1 && props.etcd !== undefined) throw invalid('etcd', 'needs masters: 3 or 5 (one master keeps its state in files)');
  return {
    tls,
    masters,
    etcd: masters === 1 ? undefined : compileEtcd(props.etcd ?? { type: 'inCluster' }),
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

const HOST_PORT = /^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?:[0-9]{1,5}$/;

function compileEtcd(etcd: EtcdSource): CompiledEtcd {
  if (etcd.type === 'external') {
    if (etcd.endpoints.length === 0) throw invalid('etcd.endpoints', 'must name at least one etcd member (host:port)');
    etcd.endpoints.forEach((e, i) => {
      if (!HOST_PORT.test(e)) throw invalid(`etcd.endpoints[${i}]`, `"${e}" is not host:port`);
    });
    if ((etcd.tls?.certPem === undefined) !== (etcd.tls?.keyPem === undefined)) throw invalid('etcd.tls', 'give certPem and keyPem together');
    return { type: 'external', endpoints: [...etcd.endpoints], tls: etcd.tls };
  }
  const replicas = etcd.replicas ?? 3;
  if (replicas !== 3 && replicas !== 5) throw invalid('etcd.replicas', `${String(replicas)} must be 3 or 5`);
  const storageSize = etcd.storageSize ?? '2Gi';
  if (!QUANTITY.test(storageSize)) throw invalid('etcd.storageSize', `"${storageSize}" is not a quantity like 2Gi`);
  const image = etcd.image ?? 'registry.k8s.io/etcd:3.5.15-0';
  if (image.trim() === '' || /\s/.test(image)) throw invalid('etcd.image', `"${image}" is not an image reference`);
  return { type: 'inCluster', replicas, image, storageSize };
}
