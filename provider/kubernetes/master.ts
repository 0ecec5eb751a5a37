import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';
import { LAYOUT, NAMES, type CompiledKubernetesProps } from './props.js';
import { masterArgs } from './container-args.js';
import {
  containerSecurityContext,
  grpcPortProbe,
  podSecurityContext,
  secretMount,
  secretVolume,
  tmpMount,
  tmpVolume,
  tokenMount,
  tokenVolume,
} from './pod-security.js';

/** Kubernetes objects that make the master(s). */
export interface MasterResources {
  /** ClusterIP Service over every master (a follower redirects to the leader). */
  readonly service: k8s.core.v1.Service;
  /** One master: its claim. */
  readonly dataClaim?: k8s.core.v1.PersistentVolumeClaim;
  /** One master: its Deployment. */
  readonly deployment?: k8s.apps.v1.Deployment;
  /** Several masters: the StatefulSet (one claim per pod from its template). */
  readonly statefulSet?: k8s.apps.v1.StatefulSet;
  /** Several masters: the headless Service giving each pod its DNS name. */
  readonly podsService?: k8s.core.v1.Service;
}

export const MASTER_LABELS = { 'app.kubernetes.io/name': 'sutra-grid', 'app.kubernetes.io/component': 'master' } as const;

/** The master container and the volumes it needs besides its data dir: the same for one master or several. */
export function masterPod(props: CompiledKubernetesProps, etcdTls: boolean): { container: k8s.types.input.core.v1.Container; volumes: k8s.types.input.core.v1.Volume[] } {
  // Without TLS the native gRPC probe speaks grpc.health.v1.Health, which the master serves
  // without a token (a probe cannot carry one); behind TLS only the port can be probed.
  const probe = grpcPortProbe(LAYOUT.masterPort, props.tls);
  const mounts: k8s.types.input.core.v1.VolumeMount[] = [{ name: 'data', mountPath: LAYOUT.masterDataDir }, tokenMount(), tmpMount()];
  const volumes: k8s.types.input.core.v1.Volume[] = [tokenVolume(), tmpVolume()];
  if (props.tls) {
    mounts.push(secretMount('ca', LAYOUT.caDir));
    volumes.push(secretVolume('ca', NAMES.ca));
  }
  if (etcdTls) {
    mounts.push(secretMount('etcd-client', LAYOUT.etcdClientDir));
    volumes.push(secretVolume('etcd-client', NAMES.etcdClient));
  }
  const container: k8s.types.input.core.v1.Container = {
    name: 'master',
    image: props.image,
    imagePullPolicy: props.imagePullPolicy,
    args: masterArgs(props),
    ...(props.masters > 1 ? { env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] } : {}),
    ports: [{ name: 'grpc', containerPort: LAYOUT.masterPort, protocol: 'TCP' }],
    readinessProbe: { ...probe, periodSeconds: 5, failureThreshold: 3 },
    // Generous: a master replaying a large event store must not be killed mid-start.
    startupProbe: { ...probe, periodSeconds: 2, failureThreshold: 60 },
    livenessProbe: { ...probe, periodSeconds: 10, failureThreshold: 3 },
    resources: props.masterResources,
    securityContext: containerSecurityContext(),
    volumeMounts: mounts,
  };
  return { container, volumes };
}

/** The ClusterIP Service in front of the master(s): what `masterAddress` names with one master. */
export function masterService(prefix: string, namespace: pulumi.Input<string>, opts: pulumi.CustomResourceOptions): k8s.core.v1.Service {
  return new k8s.core.v1.Service(
    `${prefix}-master`,
    {
      metadata: { namespace, labels: { ...MASTER_LABELS }, name: NAMES.master },
      spec: {
        type: 'ClusterIP',
        selector: { ...MASTER_LABELS },
        ports: [{ name: 'grpc', port: LAYOUT.masterPort, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'grpc' }],
      },
    },
    opts,
  );
}

/**
 * The master: one replica owning a PVC for its data dir. Strategy Recreate because a
 * ReadWriteOnce volume cannot be attached to the old and the new pod at once, and two masters must
 * never share one data dir.
 */
export function createMaster(
  prefix: string,
  props: CompiledKubernetesProps,
  namespace: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): MasterResources {
  const meta = { namespace, labels: { ...MASTER_LABELS } };
  const dataClaim = new k8s.core.v1.PersistentVolumeClaim(
    `${prefix}-master-data`,
    {
      metadata: { ...meta, name: NAMES.masterData },
      spec: {
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: props.masterStorageSize } },
        ...(props.storageClassName !== undefined ? { storageClassName: props.storageClassName } : {}),
      },
    },
    opts,
  );
  const pod = masterPod(props, false);
  const deployment = new k8s.apps.v1.Deployment(
    `${prefix}-master`,
    {
      metadata: { ...meta, name: NAMES.master },
      spec: {
        replicas: 1,
        strategy: { type: 'Recreate' },
        selector: { matchLabels: { ...MASTER_LABELS } },
        template: {
          metadata: { labels: { ...MASTER_LABELS } },
          spec: {
            // The master never talks to the Kubernetes API.
            automountServiceAccountToken: false,
            securityContext: podSecurityContext(props.runAsUser),
            containers: [pod.container],
            volumes: [{ name: 'data', persistentVolumeClaim: { claimName: NAMES.masterData } }, ...pod.volumes],
          },
        },
      },
    },
    // No dependsOn on the claim (it is referenced by name): with a WaitForFirstConsumer storage
    // class the claim binds only once this pod exists, so waiting for it first could deadlock
    // (pulumi/pulumi-kubernetes#895).
    opts,
  );
  return { dataClaim, deployment, service: masterService(prefix, namespace, opts) };
}
