import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';
import { createAgents, type AgentResources } from './agents.js';
import { createApplyJob } from './apply-job.js';
import { createCredentials, type CredentialResources } from './credentials.js';
import { createEtcd, type EtcdResources } from './etcd.js';
import { createMaster, type MasterResources } from './master.js';
import { createMasterSet } from './master-set.js';
import { withDependsOn } from './resource-options.js';
import { masterAddresses } from './topology.js';
import { compileKubernetesProps, LAYOUT, NAMES, type GridOnKubernetesProps } from './props.js';
import { readSpecSource } from './spec-source.js';

/** Pulumi type token of the component. */
export const GRID_ON_KUBERNETES_TYPE = 'sutra-grid:kubernetes:GridOnKubernetes';

/**
 * A whole grid on a Kubernetes cluster: namespace, the spec as a ConfigMap, the credentials as
 * Secrets mounted as files (shared token, grid CA, agent join tokens), the master (a Deployment,
 * or with `masters: 3` a StatefulSet on an etcd of three), one agent per selected node
 * (DaemonSet, no API credentials), and a Job applying the spec once the masters are ready.
 *
 * With TLS (the default) the agents and the apply Job come once `agentJoinTokens` are given:
 *
 * ```ts
 * const grid = new GridOnKubernetes('grid', {
 *   specPath: 'grid.yaml',
 *   token: config.requireSecret('token'),
 *   ca: { certPem: config.require('caCert'), keyPem: config.requireSecret('caKey') },
 *   masters: 3,
 *   agentJoinTokens: config.getSecretObject('agentJoinTokens'),
 * });
 * export const masters = grid.masterAddress;
 * ```
 */
export class GridOnKubernetes extends pulumi.ComponentResource {
  /**
   * `host:port` of the master inside the cluster (its Service); with several masters, every
   * master's pod DNS name, comma-separated (what `--master` and the Pulumi `Grid` take).
   */
  readonly masterAddress: pulumi.Output<string>;
  /** The namespace everything was created in. */
  readonly namespace: pulumi.Output<string>;
  /** `sha256:` of the grid CA, for `--ca-hash`; undefined without TLS. */
  readonly caHash: pulumi.Output<string> | undefined;
  /** The master's claim, Deployment and Service, or the masters' StatefulSet and Services. */
  readonly master: MasterResources;
  /** The in-cluster etcd of several masters; undefined with one master or an external etcd. */
  readonly etcd: EtcdResources | undefined;
  /** The Secrets holding the grid's credentials. */
  readonly credentials: CredentialResources;
  /** The agents' DaemonSet; undefined with TLS until `agentJoinTokens` are given. */
  readonly agents: AgentResources | undefined;
  /** Undefined when `applySpec` is false, or when there are no agents yet. */
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
    // The only places the token, the CA key and the join tokens are written: Secrets' `stringData`,
    // marked secret in state.
    this.credentials = createCredentials(name, props, compiled, namespace, child);
    const c = this.credentials;
    this.caHash = c.caHash;

    this.etcd = createEtcd(name, compiled, namespace, child);
    const masterOpts = withDependsOn(child, c.token, c.ca, c.etcdClient, this.etcd?.statefulSet);
    this.master = compiled.masters === 1 ? createMaster(name, compiled, namespace, masterOpts) : createMasterSet(name, compiled, namespace, masterOpts);
    const masterWorkload = this.master.deployment ?? this.master.statefulSet;

    const masters = masterAddresses(compiled).join(',');
    const agentsReady = !compiled.tls || c.agentJoin !== undefined;
    this.agents = agentsReady ? createAgents(name, compiled, namespace, masters, c.agentJoin && c.caHash, withDependsOn(child, c.token, c.agentJoin, specMap)) : undefined;
    if (!agentsReady) {
      void pulumi.log.info('sutra-grid: no agentJoinTokens yet, so no agents and no apply Job: once the masters run, make one per agent with `sutra-grid token create --role agent` and set agentJoinTokens', this);
    }
    this.applyJob =
      compiled.applySpec && this.agents !== undefined
        ? createApplyJob(
            name,
            compiled,
            namespace,
            masters,
            spec.hash,
            // Pulumi awaits the master workload until its pods are ready and the DaemonSet until
            // its pods are, so the Job starts against a serving master with agents registering,
            // and its apply can converge.
            withDependsOn(child, c.token, c.caCert, specMap, masterWorkload, this.master.service, this.agents.daemonSet),
          )
        : undefined;

    this.namespace = namespace;
    this.masterAddress =
      compiled.masters === 1
        ? pulumi.interpolate`${this.master.service.metadata.name}.${namespace}.svc.${compiled.clusterDomain}:${LAYOUT.masterPort}`
        : pulumi.output(masters);
    this.registerOutputs({ masterAddress: this.masterAddress, namespace: this.namespace, caHash: this.caHash });
  }
}
