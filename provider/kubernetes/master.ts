import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';
import { LAYOUT, NAMES, type CompiledKubernetesProps } from './props.js';
import { masterArgs } from './container-args.js';
import { containerSecurityContext, podSecurityContext, tmpMount, tmpVolume, tokenMount, tokenVolume } from './pod-security.js';

/** Kubernetes objects that make the master. */
export interface MasterResources {
  readonly dataClaim: k8s.core.v1.PersistentVolumeClaim;
  readonly deployment: k8s.apps.v1.Deployment;
  readonly service: k8s.core.v1.Service;
}

const MASTER_LABELS = { 'app.kubernetes.io/name': 'sutra-grid', 'app.kubernetes.io/component': 'master' } as const;

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
  // The native gRPC probe speaks grpc.health.v1.Health, which the master serves without a token
  // (a probe cannot carry one).
  const grpcProbe = { grpc: { port: LAYOUT.masterPort } };
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
            containers: [
              {
                name: 'master',
                image: props.image,
                imagePullPolicy: props.imagePullPolicy,
                args: masterArgs(),
                ports: [{ name: 'grpc', containerPort: LAYOUT.masterPort, protocol: 'TCP' }],
                readinessProbe: { ...grpcProbe, periodSeconds: 5, failureThreshold: 3 },
                // Generous: a master replaying a large event store must not be killed mid-start.
                startupProbe: { ...grpcProbe, periodSeconds: 2, failureThreshold: 60 },
                livenessProbe: { ...grpcProbe, periodSeconds: 10, failureThreshold: 3 },
                resources: props.masterResources,
                securityContext: containerSecurityContext(),
                volumeMounts: [{ name: 'data', mountPath: LAYOUT.masterDataDir }, tokenMount(), tmpMount()],
              },
            ],
            volumes: [
              { name: 'data', persistentVolumeClaim: { claimName: NAMES.masterData } },
              tokenVolume(),
              tmpVolume(),
            ],
          },
        },
      },
    },
    // No dependsOn on the claim (it is referenced by name): with a WaitForFirstConsumer storage
    // class the claim binds only once this pod exists, so waiting for it first could deadlock
    // (pulumi/pulumi-kubernetes#895).
    opts,
  );
  const service = new k8s.core.v1.Service(
    `${prefix}-master`,
    {
      metadata: { ...meta, name: NAMES.master },
      spec: {
        type: 'ClusterIP',
        selector: { ...MASTER_LABELS },
        ports: [{ name: 'grpc', port: LAYOUT.masterPort, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'grpc' }],
      },
    },
    opts,
  );
  return { dataClaim, deployment, service };
}
