import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';
import { NAMES, type CompiledKubernetesProps, type GridOnKubernetesProps } from './props.js';
import { caHashOf } from './topology.js';

/**
 * The grid's credentials as Kubernetes Secrets, each mounted as files by the pods that need it and
 * by no other (never env, never a ConfigMap). Every private value is `pulumi.secret`, so the state
 * holds it encrypted.
 */
export interface CredentialResources {
  /** The shared token (the apply Job's and the probes' credential). */
  readonly token: k8s.core.v1.Secret;
  /** CA certificate and key: mounted by the masters only. */
  readonly ca: k8s.core.v1.Secret | undefined;
  /** CA certificate alone: mounted by the apply Job to check the masters. */
  readonly caCert: k8s.core.v1.Secret | undefined;
  /** One join token per agent id. */
  readonly agentJoin: k8s.core.v1.Secret | undefined;
  /** etcd client TLS for an external etcd. */
  readonly etcdClient: k8s.core.v1.Secret | undefined;
  /** `sha256:` of the CA certificate, the hash agents pin; undefined without TLS. */
  readonly caHash: pulumi.Output<string> | undefined;
}

/** Drops undefined members (a Secret's data must not hold them). */
function defined(o: Record<string, pulumi.Input<string> | undefined>): Record<string, pulumi.Input<string>> {
  return Object.fromEntries(Object.entries(o).filter((e): e is [string, pulumi.Input<string>] => e[1] !== undefined));
}

export function createCredentials(
  prefix: string,
  props: GridOnKubernetesProps,
  compiled: CompiledKubernetesProps,
  namespace: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): CredentialResources {
  const secret = (id: string, name: string, stringData: pulumi.Input<Record<string, pulumi.Input<string>>>, type = 'Opaque'): k8s.core.v1.Secret =>
    new k8s.core.v1.Secret(`${prefix}-${id}`, { metadata: { namespace, name }, type, stringData: pulumi.secret(stringData) }, opts);

  const token = secret('token', NAMES.token, { token: props.token });
  const ca = compiled.tls && props.ca !== undefined ? props.ca : undefined;
  const etcd = compiled.etcd;
  return {
    token,
    ca: ca && secret('ca', NAMES.ca, { 'tls.crt': ca.certPem, 'tls.key': ca.keyPem }, 'kubernetes.io/tls'),
    caCert: ca && secret('ca-cert', NAMES.caCert, { 'ca.crt': ca.certPem }),
    agentJoin: ca && props.agentJoinTokens !== undefined ? secret('agent-join', NAMES.agentJoin, props.agentJoinTokens) : undefined,
    etcdClient:
      etcd?.type === 'external' && etcd.tls !== undefined
        ? secret('etcd-client', NAMES.etcdClient, defined({ 'ca.pem': etcd.tls.caPem, 'cert.pem': etcd.tls.certPem, 'key.pem': etcd.tls.keyPem }))
        : undefined,
    // The hash of a public certificate is not a secret; unsecret so it shows in outputs and args.
    caHash: ca && pulumi.unsecret(pulumi.output(ca.certPem).apply(caHashOf)),
  };
}
