import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';
import { LAYOUT, NAMES, type CompiledKubernetesProps } from './props.js';
import { agentArgs } from './container-args.js';
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

/**
 * Kubernetes objects that make the agents. No ServiceAccount, Role or RoleBinding: the agent
 * never calls the Kubernetes API (its identity and address come from the downward API, its
 * config from flags), so it gets no API credentials at all. Add them with the first feature that
 * needs the API, scoped to what it reads.
 */
export interface AgentResources {
  readonly daemonSet: k8s.apps.v1.DaemonSet;
}

const AGENT_LABELS = { 'app.kubernetes.io/name': 'sutra-grid', 'app.kubernetes.io/component': 'agent' } as const;

/**
 * Agents as a DaemonSet: an agent is a per-host daemon (like kubelet or a Nomad client), so each
 * selected Kubernetes node runs exactly one, and a node added to the cluster gets its agent
 * without anyone scaling anything. A StatefulSet would give stable ids but would let the scheduler
 * stack several agents on one host, so two agents would count the same memory twice. The agent's
 * id is its Kubernetes node name (stable across pod replacement), and its storage nodes run as
 * processes inside the agent pod (the `process` platform), listening on the pod's IP.
 */
export function createAgents(
  prefix: string,
  props: CompiledKubernetesProps,
  namespace: pulumi.Input<string>,
  masterAddress: string,
  caHash: pulumi.Output<string> | undefined,
  opts: pulumi.CustomResourceOptions,
): AgentResources {
  const meta = { namespace, labels: { ...AGENT_LABELS } };
  const dataVolume: k8s.types.input.core.v1.Volume =
    props.agentDataVolume.type === 'hostPath'
      ? { name: 'data', hostPath: { path: props.agentDataVolume.path ?? LAYOUT.agentDataDir, type: 'DirectoryOrCreate' } }
      : { name: 'data', emptyDir: props.agentDataVolume.sizeLimit !== undefined ? { sizeLimit: props.agentDataVolume.sizeLimit } : {} };
  // kubelet creates a hostPath directory owned by root and fsGroup does not apply to hostPath, so
  // a one-shot init container hands it to the grid's UID. It runs as root but may only chown:
  // every capability but CHOWN dropped, no escalation, read-only root. Not needed for emptyDir,
  // which fsGroup covers.
  const initContainers: k8s.types.input.core.v1.Container[] =
    props.agentDataVolume.type === 'hostPath'
      ? [
          {
            name: 'own-data-dir',
            image: props.image,
            imagePullPolicy: props.imagePullPolicy,
            command: ['chown', `${props.runAsUser}:${props.runAsUser}`, LAYOUT.agentDataDir],
            securityContext: {
              runAsUser: 0,
              runAsNonRoot: false,
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              privileged: false,
              capabilities: { drop: ['ALL'], add: ['CHOWN'] },
            },
            volumeMounts: [{ name: 'data', mountPath: LAYOUT.agentDataDir }],
          },
        ]
      : [];
  // Behind TLS the agent's port requires a client certificate, which a probe cannot present.
  const grpcProbe = grpcPortProbe(LAYOUT.agentPort, caHash !== undefined);
  const mounts: k8s.types.input.core.v1.VolumeMount[] = [{ name: 'data', mountPath: LAYOUT.agentDataDir }, tokenMount(), tmpMount()];
  const volumes: k8s.types.input.core.v1.Volume[] = [dataVolume, tokenVolume(), tmpVolume()];
  if (caHash !== undefined) {
    // Every agent's one-time token is mounted in every agent pod (a DaemonSet cannot pick one
    // Secret key per node); each agent reads its own, by node name, on its first start only.
    mounts.push(secretMount('join', LAYOUT.joinDir));
    volumes.push(secretVolume('join', NAMES.agentJoin));
  }
  const daemonSet = new k8s.apps.v1.DaemonSet(
    `${prefix}-agent`,
    {
      metadata: { ...meta, name: NAMES.agent },
      spec: {
        selector: { matchLabels: { ...AGENT_LABELS } },
        // One agent at a time per rollout: its nodes stop while it restarts.
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: { labels: { ...AGENT_LABELS } },
          spec: {
            // No API token in the pod: a compromised agent or storage node gets nothing to call the API with.
            automountServiceAccountToken: false,
            nodeSelector: { ...props.agentNodeSelector },
            securityContext: podSecurityContext(props.runAsUser),
            // Stopping an agent stops its storage nodes gracefully first.
            terminationGracePeriodSeconds: 60,
            initContainers,
            containers: [
              {
                name: 'agent',
                image: props.image,
                imagePullPolicy: props.imagePullPolicy,
                env: [
                  { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                  { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                  { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
                  { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
                ],
                args: caHash === undefined ? agentArgs(masterAddress) : caHash.apply((h) => agentArgs(masterAddress, h)),
                ports: [{ name: 'grpc', containerPort: LAYOUT.agentPort, protocol: 'TCP' }],
                readinessProbe: { ...grpcProbe, periodSeconds: 5, failureThreshold: 3 },
                livenessProbe: { ...grpcProbe, periodSeconds: 10, failureThreshold: 3, initialDelaySeconds: 10 },
                resources: props.agentResources,
                securityContext: containerSecurityContext(),
                volumeMounts: mounts,
              },
            ],
            volumes,
          },
        },
      },
    },
    opts,
  );
  return { daemonSet };
}
