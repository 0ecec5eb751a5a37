import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';
import { LAYOUT, NAMES, type CompiledKubernetesProps } from './props.js';
import { MASTER_LABELS, masterPod, masterService, type MasterResources } from './master.js';
import { podSecurityContext } from './pod-security.js';
import { dataClaimTemplate, withDependsOn } from './resource-options.js';

/**
 * Several masters as a StatefulSet on one etcd (issue 15): each pod has a stable name and DNS name
 * (through a headless Service), which it advertises, and its own claim for its data dir (what is
 * not in etcd: its event log, its PKI files). They elect one leader through etcd; the others refuse
 * calls naming it, so callers are given every pod's address. Pods start in parallel: a master
 * waits for etcd, not for its siblings.
 */
export function createMasterSet(
  prefix: string,
  props: CompiledKubernetesProps,
  namespace: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): MasterResources {
  const meta = { namespace, labels: { ...MASTER_LABELS } };
  const podsService = new k8s.core.v1.Service(
    `${prefix}-master-pods`,
    {
      metadata: { ...meta, name: NAMES.masterPods },
      spec: {
        clusterIP: 'None',
        // A master must be reachable by name before it is ready: followers and callers dial the
        // leader named in a refusal, and a pod's readiness does not decide who leads.
        publishNotReadyAddresses: true,
        selector: { ...MASTER_LABELS },
        ports: [{ name: 'grpc', port: LAYOUT.masterPort, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'grpc' }],
      },
    },
    opts,
  );
  const etcd = props.etcd;
  const pod = masterPod(props, etcd?.type === 'external' && etcd.tls !== undefined);
  const statefulSet = new k8s.apps.v1.StatefulSet(
    `${prefix}-master`,
    {
      metadata: { ...meta, name: NAMES.master },
      spec: {
        serviceName: NAMES.masterPods,
        replicas: props.masters,
        podManagementPolicy: 'Parallel',
        // One master at a time: the others keep a quorum of masters (and a leader) during a rollout.
        updateStrategy: { type: 'RollingUpdate' },
        selector: { matchLabels: { ...MASTER_LABELS } },
        template: {
          metadata: { labels: { ...MASTER_LABELS } },
          spec: {
            automountServiceAccountToken: false,
            securityContext: podSecurityContext(props.runAsUser),
            // Masters on different nodes, where the cluster has enough: losing one node loses one master.
            affinity: {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { ...MASTER_LABELS } } } },
                ],
              },
            },
            containers: [pod.container],
            volumes: pod.volumes,
          },
        },
        volumeClaimTemplates: [dataClaimTemplate(props.masterStorageSize, props.storageClassName)],
      },
    },
    withDependsOn(opts, podsService),
  );
  return { statefulSet, podsService, service: masterService(prefix, namespace, opts) };
}
