/**
 * Where the grid's pods find one another inside the cluster: the master Service or each master's
 * pod DNS name, and the etcd members. Pure, so the addresses tests assert are the ones the
 * containers are given.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { LAYOUT, NAMES, type CompiledKubernetesProps } from './props.js';

type Topology = Pick<CompiledKubernetesProps, 'namespace' | 'clusterDomain' | 'masters' | 'etcd'>;

function svcDomain(t: Topology): string {
  return `${t.namespace}.svc.${t.clusterDomain}`;
}

/** DNS name of master pod `i` of the StatefulSet, through its headless Service. */
export function masterPodHost(t: Topology, i: number): string {
  return `${NAMES.master}-${i}.${NAMES.masterPods}.${svcDomain(t)}`;
}

/**
 * host:port of every master: the Service with one master; each pod's own name with several, so a
 * follower's refusal naming the leader (its `--advertise`) is an address callers already know.
 */
export function masterAddresses(t: Topology): string[] {
  if (t.masters === 1) return [`${NAMES.master}.${svcDomain(t)}:${LAYOUT.masterPort}`];
  return Array.from({ length: t.masters }, (_, i) => `${masterPodHost(t, i)}:${LAYOUT.masterPort}`);
}

/** DNS name of etcd member `i` of the in-cluster StatefulSet. */
export function etcdPodHost(t: Topology, i: number): string {
  return `${NAMES.etcd}-${i}.${NAMES.etcd}.${svcDomain(t)}`;
}

/** host:port of the etcd client endpoints the masters use; empty with one master. */
export function etcdEndpoints(t: Topology): string[] {
  const etcd = t.etcd;
  if (etcd === undefined) return [];
  if (etcd.type === 'external') return [...etcd.endpoints];
  return Array.from({ length: etcd.replicas }, (_, i) => `${etcdPodHost(t, i)}:${LAYOUT.etcdClientPort}`);
}

/** `sha256:<hex>` of a CA certificate's DER: the `--ca-hash` agents pin (as `sutra-grid token create` prints it). */
export function caHashOf(certPem: string): string {
  return `sha256:${createHash('sha256').update(new X509Certificate(certPem).raw).digest('hex')}`;
}
