import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';
import { createAgents, type AgentResources } from './agents.js';
import { createApplyJob } from './apply-job.js';
import { createMaster, type MasterResources } from './master.js';
import { compileKubernetesProps, LAYOUT, NAMES, type GridOnKubernetesProps } from './props.js';
import { readSpecSource } from './spec-source.js';

/** Pulumi type token of the component. */
export const GRID_ON_KUBERNETES_TYPE = 'sutra-grid:kubernetes:GridOnKubernetes';

/**
 * A whole grid on a Kubernetes cluster: namespace, the spec as a ConfigMap, the token as a
 * Secret, the master (Deployment + Service + PVC), one agent per selected node (DaemonSet with
 * namespace-scoped RBAC), and a Job applying the spec once the master is ready.
 *
 * ```ts
 * const grid = new GridOnKubernetes('grid', { specPath: 'grid.yaml', token: config.requireSecret('token') });
 * export const master = grid.masterAddress;
 * ```
 */
export class GridOnKubernetes extends pulumi.ComponentResource {
  /** `host:port` of the master inside the cluster (its Service's DNS name and port 7000). */
  readonly masterAddress: pulumi.Output<string>;
  /** The namespace everything was created in. */
  readonly namespace: pulumi.Output<string>;
  /** The master's claim, Deployment and Service. */
  readonly master: MasterResources;
  /** The agents' DaemonSet (no ServiceAccount or RBAC: agents never call the Kubernetes API). */
  readonly agents: AgentResources;
  /** Undefined when `applySpec` is false. */
  readonly applyJob: k8s.batch.v1.Job | undefined;

  constructor(name: string, props: GridOnKubernetesProps, opts: pulumi.ComponentResourceOptions = {}) {
    super(GRID_ON_KUBERNETES_TYPE, name, {}, opts);
    // Checked before any Kubernetes object is registered, so bad props create none.
    const compiled = compileKubernetesProps(props);
    const spec = readSpecSource(props.specPath, props.specText);

    // With emptyDir agents every pod meets the "restricted" Pod Security Standard, so the
    // namespace enforces it. hostPath volumes (and the chown init container) are outside even
    // "baseline", so then the cluster's default admission level applies and must allow them.
    const nsLabels: Record<string, string> = { 'app.kubernetes.io/name': 'sutra-grid' };
    if (compiled.agentDataVolume.type === 'emptyDir') nsLabels['pod-security.kubernetes.io/enforce'] = 'restricted';
    const ns = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: compiled.namespace, labels: nsLabels } }, { parent: this });
    const namespace = ns.metadata.name;
    // Pulumi names are prefixed with the component's name so two grids in one stack do not
    // collide; Kubernetes names are fixed (NAMES), which is unique per namespace.
    const child: pulumi.CustomResourceOptions = { parent: this, dependsOn: [ns] };

    const specMap = new k8s.core.v1.ConfigMap(
      `${name}-spec`,
      {
        metadata: { namespace, name: NAMES.spec, annotations: { 'sutra-grid.io/spec-hash': spec.hash } },
        data: { 'grid.yaml': spec.text },
      },
      child,
    );
    // The only place the token is written: `stringData` of this Secret, marked secret in state.
    const tokenSecret = new k8s.core.v1.Secret(
      `${name}-token`,
      {
        metadata: { namespace, name: NAMES.token },
        type: 'Opaque',
        stringData: { token: pulumi.secret(props.token) },
      },
      child,
    );
    const withToken: pulumi.CustomResourceOptions = { parent: this, dependsOn: [ns, tokenSecret] };

    const masterHost = `${NAMES.master}.${compiled.namespace}.svc.${compiled.clusterDomain}`;
    this.master = createMaster(name, compiled, namespace, withToken);
    this.agents = createAgents(name, compiled, namespace, masterHost, { parent: this, dependsOn: [ns, tokenSecret, specMap] });
    this.applyJob = compiled.applySpec
      ? createApplyJob(name, compiled, namespace, masterHost, spec.hash, {
          parent: this,
          // Pulumi awaits the Deployment until its pod is ready (gRPC health) and the DaemonSet
          // until its pods are, so the Job starts against a serving master with agents
          // registering, and its apply can converge.
          dependsOn: [ns, tokenSecret, specMap, this.master.deployment, this.master.service, this.agents.daemonSet],
        })
      : undefined;

    this.namespace = namespace;
    this.masterAddress = pulumi.interpolate`${this.master.service.metadata.name}.${namespace}.svc.${compiled.clusterDomain}:${LAYOUT.masterPort}`;
    this.registerOutputs({ masterAddress: this.masterAddress, namespace: this.namespace });
  }
}
