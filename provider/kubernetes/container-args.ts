import { LAYOUT, type CompiledKubernetesProps } from './props.js';
import { etcdEndpoints, masterPodHost } from './topology.js';

/**
 * The `sutra-grid` command lines of the grid's containers (the image's entrypoint is the CLI).
 * Pure, so tests can run exactly these against real daemons.
 */

type MasterTopology = Pick<CompiledKubernetesProps, 'namespace' | 'clusterDomain' | 'masters' | 'etcd' | 'tls'>;

/**
 * A master: all interfaces of its pod, data on its claim, token from the Secret; with TLS, the
 * operator's CA from its Secret; with several masters, the shared etcd and the pod's own DNS name
 * (`$(POD_NAME)` is expanded by Kubernetes from the downward API, no shell involved).
 */
export function masterArgs(t: MasterTopology = { namespace: 'sutra-grid', clusterDomain: 'cluster.local', masters: 1, etcd: undefined, tls: false }): string[] {
  const args = ['master', '--listen', `0.0.0.0:${LAYOUT.masterPort}`, '--data-dir', LAYOUT.masterDataDir, '--token-file', LAYOUT.tokenFile];
  // Explicit either way: `--tls auto` would turn TLS on for 0.0.0.0 with a CA of the master's own.
  if (t.tls) args.push('--tls', 'on', '--tls-ca-cert', `${LAYOUT.caDir}/tls.crt`, '--tls-ca-key', `${LAYOUT.caDir}/tls.key`);
  else args.push('--tls', 'off');
  if (t.masters > 1) {
    args.push('--store', `etcd://${etcdEndpoints(t).join(',')}`);
    const etcd = t.etcd;
    if (etcd?.type === 'external' && etcd.tls !== undefined) {
      args.push('--etcd-ca', `${LAYOUT.etcdClientDir}/ca.pem`);
      if (etcd.tls.certPem !== undefined) args.push('--etcd-cert', `${LAYOUT.etcdClientDir}/cert.pem`, '--etcd-key', `${LAYOUT.etcdClientDir}/key.pem`);
    }
    // Pod i's name is sutra-grid-master-i, so this is masterPodHost(i) for every pod.
    args.push('--advertise', `${masterPodHost(t, 0).replace(/^[^.]+/, '$(POD_NAME)')}:${LAYOUT.masterPort}`);
  }
  return args;
}

/**
 * An agent. `$(VAR)` is expanded by Kubernetes from the container's env (downward API), no shell
 * involved. Listening on the pod IP rather than 0.0.0.0 makes that IP the address the agent
 * reports to the master. With `caHash`, it joins with the token file named after its node
 * (mounted from the join Secret) the first time, pinning the CA by that hash.
 */
export function agentArgs(masterAddress: string, caHash?: string): string[] {
  const args = [
    'agent',
    '--id', '$(NODE_NAME)',
    '--master', masterAddress,
    '--listen', `$(POD_IP):${LAYOUT.agentPort}`,
    '--data-dir', LAYOUT.agentDataDir,
    '--token-file', LAYOUT.tokenFile,
  ];
  if (caHash !== undefined) args.push('--join-file', `${LAYOUT.joinDir}/$(NODE_NAME)`, '--ca-hash', caHash);
  return args;
}

/** The apply Job: the spec from the ConfigMap, applied without a prompt; with TLS, the CA checks the master. */
export function applyArgs(masterAddress: string, tls = false): string[] {
  const args = ['apply', LAYOUT.specFile, '--master', masterAddress, '--auto-approve', '--token-file', LAYOUT.tokenFile];
  if (tls) args.push('--tls-ca', `${LAYOUT.caCertDir}/ca.crt`);
  return args;
}
