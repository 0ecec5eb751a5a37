/** Clients of storage nodes under mutual TLS across test hosts (issue 14). */
import { connect as tlsConnect } from 'node:tls';
import type { NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { Metadata } from '@grpc/grpc-js';
import { StorageControlClient } from '../../proto/gen/sutra/grid/v1/storage.pb.js';
import { clientChannelOptions, TLS_CHANNEL_OPTIONS, TlsSource, tlsChannelCredentials, type TlsMaterial } from '../../client/transport.js';
import { TestStorageClient } from '../helpers/storage-client.js';
import type { TestHosts } from './netns.js';

export { missingOn } from '../storage/support/replication.js';

/** One line of write-probe.mjs. */
export interface ProbeLine {
  readonly id: string;
  readonly ok: boolean;
  /** The node's acceptance stamp of an accepted write; the probe's clock for a refusal. */
  readonly atMs: number;
  readonly code?: number;
  readonly details?: string;
}

/** Where a node serves: its agent's host (agents run on hosts named as their ids) and its port. */
export function nodeAddress(hosts: TestHosts, n: NodeInfo): string {
  return `${hosts.address(n.agentId)}:${n.port}`;
}

/** A StorageService client presenting `m`, accepting only a server certificate of role node. */
export function nodeClient(address: string, m: TlsMaterial | undefined, token?: string): TestStorageClient {
  if (m === undefined) return new TestStorageClient(address, token);
  return new TestStorageClient(address, token, { credentials: tlsChannelCredentials(new TlsSource(m), { role: 'node' }), options: clientChannelOptions(TLS_CHANNEL_OPTIONS) });
}

/** The status of StorageControl.GetReplicationStatus at `address` called with `m` (0: answered). */
export function controlCall(address: string, m: TlsMaterial): Promise<{ code: number; details: string }> {
  const c = new StorageControlClient(address, tlsChannelCredentials(new TlsSource(m), { role: 'node' }), clientChannelOptions(TLS_CHANNEL_OPTIONS));
  return new Promise((resolve) => {
    c.getReplicationStatus({}, new Metadata(), { deadline: new Date(Date.now() + 15_000) }, (err) => {
      c.close();
      resolve({ code: err?.code ?? 0, details: err?.details ?? '' });
    });
  });
}

/** The serial of the certificate the node at `address` presents to a client holding `m`. */
export function servedSerial(address: string, m: TlsMaterial): Promise<string> {
  const sep = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: address.slice(0, sep), port: Number(address.slice(sep + 1)), ca: m.caPem, cert: m.certPem, key: m.keyPem, ALPNProtocols: ['h2'], servername: 'sutra-grid', checkServerIdentity: () => undefined }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      s.destroy();
      resolve(serial);
    });
    s.on('error', reject);
  });
}
