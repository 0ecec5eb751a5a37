/**
 * Deploys examples/kubernetes/grid.yaml on the cluster of the current kubeconfig context with the
 * GridOnKubernetes component. See README.md for the commands.
 */
import * as pulumi from '@pulumi/pulumi';
import { GridOnKubernetes } from '../../provider/kubernetes/index.js';

const config = new pulumi.Config();

const grid = new GridOnKubernetes('grid', {
  // Pulumi runs the program in the project directory (this one).
  specPath: config.get('specPath') ?? 'grid.yaml',
  token: config.requireSecret('token'),
  image: config.get('image') ?? 'sutra-grid:0.1.0',
  // kind/minikube images loaded locally must not be pulled.
  imagePullPolicy: 'IfNotPresent',
  masterStorageSize: config.get('masterStorageSize') ?? '1Gi',
  agentNodeSelector: config.getObject<Record<string, string>>('agentNodeSelector') ?? {},
  // Mutual TLS (the default): the grid CA, made once with
  // `sutra-grid cert issue --data-dir ./grid-ca --role admin --name you --out ./admin`, then
  // `pulumi config set caCert -- "$(cat grid-ca/pki/ca.pem)"` and
  // `pulumi config set --secret caKey -- "$(cat grid-ca/pki/ca-key.pem)"`.
  ca: { certPem: config.require('caCert'), keyPem: config.requireSecret('caKey') },
  // 1 (a Deployment on files) or 3 (a StatefulSet on an etcd of three).
  masters: config.getNumber('masters') === 3 ? 3 : 1,
  // Once the masters run: one `sutra-grid token create --role agent` per node, set with
  // `pulumi config set --secret --path 'agentJoinTokens.kind-worker' sgj...`.
  ...(config.getSecretObject<Record<string, string>>('agentJoinTokens') !== undefined
    ? { agentJoinTokens: config.requireSecretObject<Record<string, string>>('agentJoinTokens') }
    : {}),
});

/** `host:port` of the master inside the cluster (every master's, comma-separated, with several). */
export const masterAddress = grid.masterAddress;
/** The `--ca-hash` for `sutra-grid join` and agents. */
export const caHash = grid.caHash;
export const namespace = grid.namespace;
