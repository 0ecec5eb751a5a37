/**
 * Several masters and one grid CA (issues 14 and 15): an agent joins at one master and keeps its
 * certificate; a master given the same operator CA (as every master on `--store` must be) accepts
 * that certificate as the agent's, while a master that made its own CA refuses it. Real master
 * processes; the joining agent is this process, with a key made here and a CSR.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createJoinToken, fetchPinnedCa, joinGrid } from '../../client/index.js';
import { TLS_CHANNEL_OPTIONS, TlsSource, tlsChannelCredentials, type TlsMaterial } from '../../client/transport.js';
import { caHash, createCsr, newPrivateKey } from '../../runtime/common/pki/certs.js';
import { codeOf } from '../helpers/agent-processes.js';
import { fakeAgent, TestMasterClient } from '../helpers/grid-client.js';
import { operatorCa } from '../helpers/operator-ca.js';
import { startDaemon, tempDir, type DaemonProcess } from '../helpers/processes.js';

const SHARED = 'shared-ca-test-token-0123456789';
let daemons: DaemonProcess[] = [];
const clients: TestMasterClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.raw.close();
  await Promise.all(daemons.map((d) => d.stop('SIGTERM', 10_000)));
  daemons = [];
});

async function tlsMaster(caArgs: readonly string[]): Promise<DaemonProcess & { dataDir: string }> {
  const dataDir = tempDir('sga-ca-master-');
  // A TLS start (keys, certificates) is slow on a loaded machine.
  const d = await startDaemon('master', ['master', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--tls', 'on', ...caArgs], { env: { SUTRA_GRID_TOKEN: SHARED }, timeoutMs: 90_000 });
  daemons.push(d);
  return Object.assign(d, { dataDir });
}

function clientOf(address: string, m: TlsMaterial): TestMasterClient {
  const c = new TestMasterClient(address, undefined, tlsChannelCredentials(new TlsSource(m), { role: 'master' }), TLS_CHANNEL_OPTIONS);
  clients.push(c);
  return c;
}

describe('one grid CA for several masters', () => {
  it("an agent's certificate from one master is accepted by another given the same CA, refused by one with its own", async () => {
    // GIVEN the operator's CA, given to masters A and B; master C makes its own
    const { ca, args: given } = operatorCa();
    const [a, b, c] = await Promise.all([tlsMaster(given), tlsMaster(given), tlsMaster([])]);
    expect(a.logs()).toContain(caHash(ca.certPem));
    expect(b.logs()).toContain(caHash(ca.certPem));

    // WHEN agent a1 joins with a join token made at master A, given the masters as a list whose
    // first is down and whose second (B) never saw the token (its key made here)
    const token = await createJoinToken(a.address, { caPem: ca.certPem }, 'agent', 600_000, SHARED);
    const keyPem = newPrivateKey();
    const masters = `127.0.0.1:1,${b.address},${a.address}`;
    expect(caHash(await fetchPinnedCa(masters, caHash(ca.certPem)))).toBe(caHash(ca.certPem));
    const joined = await joinGrid(masters, ca.certPem, token.token, 'a1', createCsr(keyPem, 'a1'));
    // (a token no master knows is refused as such, not as an unreachable master)
    const again = await joinGrid(masters, ca.certPem, token.token, 'a1', createCsr(keyPem, 'a1')).then(() => undefined, (err: unknown) => err as { code?: unknown });
    expect(again?.code).toBe(GrpcStatus.UNAUTHENTICATED);
    const credential: TlsMaterial = { caPem: joined.caPem, certPem: joined.certPem, keyPem };

    // THEN it registers at A, and at B (as after a failover) with the same certificate
    expect((await codeOf(clientOf(a.address, credential).register(fakeAgent('a1')))).code).toBe(0);
    expect((await codeOf(clientOf(b.address, credential).register(fakeAgent('a1')))).code).toBe(0);
    // and still only as itself at B
    expect((await codeOf(clientOf(b.address, credential).register(fakeAgent('a2')))).code).toBe(GrpcStatus.PERMISSION_DENIED);
    // while master C, with a CA of its own, refuses it (the client trusting C's CA, to get that far)
    const cCaPem = readFileSync(join(c.dataDir, 'pki', 'ca.pem'), 'utf8');
    expect(caHash(cCaPem)).not.toBe(caHash(ca.certPem));
    expect((await codeOf(clientOf(c.address, { ...credential, caPem: cCaPem }).register(fakeAgent('a1')))).code).toBe(GrpcStatus.UNAUTHENTICATED);
  }, 240_000);
});
