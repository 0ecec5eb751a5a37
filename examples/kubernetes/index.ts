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
});

/** `host:port` of the master inside the cluster. */
export const masterAddress = grid.masterAddress;
export const namespace = grid.namespace;
