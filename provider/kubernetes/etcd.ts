import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';
import { LAYOUT, NAMES, type CompiledKubernetesProps } from './props.js';
import { MASTER_LABELS } from './master.js';
import { containerSecurityContext, podSecurityContext, tmpMount, tmpVolume } from './pod-security.js';
import { dataClaimTemplate, withDependsOn } from './resource-options.js';
import { etcdPodHost } from './topology.js';

/** The in-cluster etcd the masters share. */
export interface EtcdResources {
  /** Headless Service: each member's stable DNS name, for peers and for the masters. */
  readonly service: k8s.core.v1.Service;
  readonly statefulSet: k8s.apps.v1.StatefulSet;
  /** Only masters reach the client port, only members the peer port (where the CNI enforces policies). */
  readonly networkPolicy: k8s.networking.v1.NetworkPolicy;
}

const ETCD_LABELS = { 'app.kubernetes.io/name': 'sutra-grid', 'app.kubernetes.io/component': 'etcd' } as const;

/**
 * etcd of 3 or 5 members as a StatefulSet, bootstrapped statically: every member's peer URL is
 * known from its pod DNS name, so `--initial-cluster` lists them all and they start in parallel.
 * Plaintext inside the namespace, fenced by a NetworkPolicy (give `etcd: { type: 'external' }`
 * for an etcd with TLS).
 */
export function createEtcd(
  prefix: string,
  props: CompiledKubernetesProps,
  namespace: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): EtcdResources | undefined {
  const etcd = props.etcd;
  if (etcd?.type !== 'inCluster') return undefined;
  const meta = { namespace, labels: { ...ETCD_LABELS } };
  const service = new k8s.core.v1.Service(
    `${prefix}-etcd`,
    {
      metadata: { ...meta, name: NAMES.etcd },
      spec: {
        clusterIP: 'None',
        // Members must find one another before any is ready: readiness needs a quorum.
        publishNotReadyAddresses: true,
        selector: { ...ETCD_LABELS },
        ports: [
          { name: 'client', port: LAYOUT.etcdClientPort, targetPort: 'client', protocol: 'TCP' },
          { name: 'peer', port: LAYOUT.etcdPeerPort, targetPort: 'peer', protocol: 'TCP' },
        ],
      },
    },
    opts,
  );
  const peers = Array.from({ length: etcd.replicas }, (_, i) => `${NAMES.etcd}-${i}=http://${etcdPodHost(props, i)}:${LAYOUT.etcdPeerPort}`).join(',');
  // $(POD_NAME) is expanded by Kubernetes from the downward API; no shell.
  const self = etcdPodHost(props, 0).replace(/^[^.]+/, '$(POD_NAME)');
  const health = (path: string) => ({ httpGet: { path, port: LAYOUT.etcdMetricsPort } });
  const statefulSet = new k8s.apps.v1.StatefulSet(
    `${prefix}-etcd`,
    {
      metadata: { ...meta, name: NAMES.etcd },
      spec: {
        serviceName: NAMES.etcd,
        replicas: etcd.replicas,
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: { ...ETCD_LABELS } },
        template: {
          metadata: { labels: { ...ETCD_LABELS } },
          spec: {
            automountServiceAccountToken: false,
            securityContext: podSecurityContext(props.runAsUser),
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { ...ETCD_LABELS } } } },
                ],
              },
            },
            containers: [
              {
                name: 'etcd',
                image: etcd.image,
                command: [
                  'etcd',
                  '--name=$(POD_NAME)',
                  `--data-dir=${LAYOUT.etcdDataDir}/data`,
                  `--listen-client-urls=http://0.0.0.0:${LAYOUT.etcdClientPort}`,
                  `--advertise-client-urls=http://${self}:${LAYOUT.etcdClientPort}`,
                  `--listen-peer-urls=http://0.0.0.0:${LAYOUT.etcdPeerPort}`,
                  `--initial-advertise-peer-urls=http://${self}:${LAYOUT.etcdPeerPort}`,
                  `--listen-metrics-urls=http://0.0.0.0:${LAYOUT.etcdMetricsPort}`,
                  `--initial-cluster=${peers}`,
                  '--initial-cluster-state=new',
                  `--initial-cluster-token=${NAMES.etcd}`,
                  '--auto-compaction-retention=1h',
                ],
                env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
                ports: [
                  { name: 'client', containerPort: LAYOUT.etcdClientPort, protocol: 'TCP' },
                  { name: 'peer', containerPort: LAYOUT.etcdPeerPort, protocol: 'TCP' },
                  { name: 'metrics', containerPort: LAYOUT.etcdMetricsPort, protocol: 'TCP' },
                ],
                // kubeadm's probes for its etcd: serializable health is local, /health needs a quorum.
                livenessProbe: { ...health('/health?serializable=true'), periodSeconds: 10, failureThreshold: 8, initialDelaySeconds: 10 },
                readinessProbe: { ...health('/health'), periodSeconds: 5, failureThreshold: 3 },
                resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '1Gi' } },
                securityContext: containerSecurityContext(),
                volumeMounts: [{ name: 'data', mountPath: LAYOUT.etcdDataDir }, tmpMount()],
              },
            ],
            volumes: [tmpVolume()],
          },
        },
        volumeClaimTemplates: [dataClaimTemplate(etcd.storageSize, props.storageClassName)],
      },
    },
    withDependsOn(opts, service),
  );
  const networkPolicy = new k8s.networking.v1.NetworkPolicy(
    `${prefix}-etcd`,
    {
      metadata: { ...meta, name: NAMES.etcd },
      spec: {
        podSelector: { matchLabels: { ...ETCD_LABELS } },
        policyTypes: ['Ingress'],
        ingress: [
          { from: [{ podSelector: { matchLabels: { ...MASTER_LABELS } } }, { podSelector: { matchLabels: { ...ETCD_LABELS } } }], ports: [{ port: LAYOUT.etcdClientPort, protocol: 'TCP' }] },
          { from: [{ podSelector: { matchLabels: { ...ETCD_LABELS } } }], ports: [{ port: LAYOUT.etcdPeerPort, protocol: 'TCP' }] },
          // The kubelet's probes come from the node, which no pod selector names.
          { ports: [{ port: LAYOUT.etcdMetricsPort, protocol: 'TCP' }] },
        ],
      },
    },
    opts,
  );
  return { service, statefulSet, networkPolicy };
}
