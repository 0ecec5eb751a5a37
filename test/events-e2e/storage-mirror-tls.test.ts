/**
 * `master --tls on --event-storage ADDR` (issue 14: mutual TLS on every connection): the event
 * mirror dials the storage-server with the master's own certificate, and the storage-server runs
 * under `--tls-dir` with a `node` credential the operator issued from the grid CA (`cert issue
 * --role node`). Real master and storage-server processes on loopback.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { issueKeyAndCert } from '../../runtime/common/pki/certs.js';
import { TLS_CHANNEL_OPTIONS, TlsSource, tlsChannelCredentials } from '../../client/transport.js';
import { codeOf } from '../helpers/agent-processes.js';
import { fakeAgent, TestMasterClient } from '../helpers/grid-client.js';
import { operatorCa } from '../helpers/operator-ca.js';
import { cleanup, eventually, runCli, startDaemon, tempDir } from '../helpers/processes.js';
import { nodeClient } from '../hosts/node-tls-support.js';

afterEach(cleanup);

describe('events mirrored to a storage-server under mutual TLS', () => {
  it('the master writes with its own certificate; the server refuses plaintext and a reader', async () => {
    // GIVEN the operator's CA, and a node credential issued from it for the event store
    const { ca, args: given } = operatorCa();
    const masterDir = tempDir('sga-mirror-master-');
    const nodeDir = tempDir('sga-mirror-node-');
    const issued = await runCli(['cert', 'issue', '--data-dir', masterDir, '--role', 'node', '--name', 'events', '--out', nodeDir, ...given]);
    expect(issued.code, issued.stderr).toBe(0);
    expect(issued.stdout).toMatch(/issued node events/);
    // ... a storage-server that speaks mutual TLS only
    const storage = await startDaemon('storage-server', ['storage-server', '--port', '0', '--storage-path', tempDir('sga-mirror-data-'), '--tls-dir', nodeDir]);

    // WHEN a master with TLS mirrors its events there
    const master = await startDaemon(
      'master',
      ['master', '--listen', '127.0.0.1:0', '--data-dir', masterDir, '--tls', 'on', ...given, '--event-storage', storage.address],
      { timeoutMs: 90_000 },
    );
    expect(master.logs()).toMatch(/mutual TLS on/);

    // ... and an agent registers (with its own certificate of the grid CA)
    const agentCert = issueKeyAndCert(ca, { role: 'agent', name: 'a1' }, { ttlMs: 3_600_000 });
    const agent = new TestMasterClient(master.address, undefined, tlsChannelCredentials(new TlsSource({ caPem: ca.certPem, certPem: agentCert.certPem, keyPem: agentCert.keyPem }), { role: 'master' }), TLS_CHANNEL_OPTIONS);
    await agent.register(fakeAgent('a1'));
    agent.raw.close();

    // THEN its event reaches the store: read back with a reader's certificate of the grid CA
    const readerCert = issueKeyAndCert(ca, { role: 'reader', name: 'rita' }, { ttlMs: 3_600_000 });
    const reader = nodeClient(storage.address, { caPem: ca.certPem, certPem: readerCert.certPem, keyPem: readerCert.keyPem });
    try {
      const neighbors = await eventually(async () => {
        const out = await reader.neighbors('agent-a1', 'has_event').catch(() => undefined);
        return out !== undefined && out.associations.length > 0 ? out.associations : undefined;
      }, 30_000, 200);
      expect(neighbors.length).toBeGreaterThan(0);
      const first = await reader.queryConcept(neighbors[0]!.targetId);
      expect(first.found).toBe(true);
      expect(first.concept?.attributes).toMatchObject({ kind: 'event', type: 'AgentRegistered', agent_id: 'a1' });

      // ... a plaintext client gets no answer at all, and a reader may not write
      expect((await codeOf(nodeClient(storage.address, undefined).queryConcept('events'))).code).toBe(GrpcStatus.UNAVAILABLE);
      const write = await codeOf(reader.learnConcept('forged', '{}'));
      expect(write.code).toBe(GrpcStatus.PERMISSION_DENIED);
      expect(write.details).toMatch(/requires role operator/);
    } finally {
      reader.raw.close();
    }
  }, 120_000);
});
