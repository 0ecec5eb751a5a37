/**
 * Credentials of several masters on one etcd (issue 14): a join token made at one master joins at
 * another and only once, two joins racing with one token at two masters: exactly one wins, an API
 * token made at one master opens another's HTTP API, a revocation at one master is enforced by the
 * other within a short bound, and records past their expiry are pruned from etcd. Real etcd (three
 * members) and real master processes with mutual TLS and the operator's CA; the joining agent is
 * this process, with a key made here.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { request } from 'node:https';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJoinToken, joinGrid, revokeCredential, revokeJoinToken } from '../../client/index.js';
import { TLS_CHANNEL_OPTIONS, TlsSource, tlsChannelCredentials, type TlsMaterial } from '../../client/transport.js';
import { createCsr, newPrivateKey } from '../../runtime/common/pki/certs.js';
import { CredentialRegistry } from '../../runtime/master/pki/credential-registry.js';
import { EtcdCredentialStore } from '../../runtime/master/store/etcd-credential-store.js';
import { codeOf } from '../helpers/agent-processes.js';
import { EtcdCluster } from '../helpers/etcd-cluster.js';
import { operatorCa } from '../helpers/operator-ca.js';
import { fakeAgent, TestMasterClient } from '../helpers/grid-client.js';
import { cleanup, eventually, startDaemon, tempDir, type DaemonProcess } from '../helpers/processes.js';

const SHARED = 'credentials-across-masters-token-0123';
/** How soon a revocation made at one master must be enforced at another. */
const REVOCATION_BOUND_MS = 3000;

let cluster: EtcdCluster;
const daemons: DaemonProcess[] = [];
const clients: TestMasterClient[] = [];
const etcdClients: Etcd3[] = [];
const stores: EtcdCredentialStore[] = [];

beforeAll(async () => {
  cluster = await EtcdCluster.start(3);
}, 90_000);

afterAll(async () => {
  for (const c of clients.splice(0)) c.raw.close();
  await Promise.all(daemons.map((d) => d.stop('SIGTERM', 10_000)));
  for (const s of stores) await s.close();
  for (const c of etcdClients) c.close();
  await cluster?.stop();
  await cleanup();
});

type Master = DaemonProcess & { http: string };

async function tlsMaster(caArgs: readonly string[]): Promise<Master> {
  const d = await startDaemon(
    'master',
    ['master', '--listen', '127.0.0.1:0', '--data-dir', tempDir('sga-creds-master-'), '--tls', 'on', '--http', '127.0.0.1:0', '--store', cluster.storeUrl, '--lease-ttl', '2', ...caArgs],
    { env: { SUTRA_GRID_TOKEN: SHARED }, timeoutMs: 90_000 },
  );
  daemons.push(d);
  const m = await d.waitForLog(/master HTTP API listening on https:\/\/([^\s"]+)/, 30_000);
  return Object.assign(d, { http: m[1]! });
}

function clientOf(address: string, m: TlsMaterial): TestMasterClient {
  const c = new TestMasterClient(address, undefined, tlsChannelCredentials(new TlsSource(m), { role: 'master' }), TLS_CHANNEL_OPTIONS);
  clients.push(c);
  return c;
}

/** GET over HTTPS trusting `caPem`, with a bearer token: the status code. */
function httpStatus(address: string, caPem: string, path: string, bearer: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`https://${address}${path}`, { ca: caPem, checkServerIdentity: () => undefined, headers: { authorization: `Bearer ${bearer}` }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function refusalOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => 'accepted',
    (err: unknown) => (err as { code?: unknown }).code,
  );
}

describe('credentials shared by several masters on etcd', () => {
  it('a token made at one master joins at the other, once; racing joins: one wins; API tokens and revocations reach the other master', async () => {
    // GIVEN two masters on one etcd with the operator's CA
    const { ca, args: given } = operatorCa();
    const [m1, m2] = await Promise.all([tlsMaster(given), tlsMaster(given)]);
    // A: the leader (agents register there); B: the follower
    const [a, b] = await eventually(() => (m1.logs().includes('this master leads') ? [m1, m2] : m2.logs().includes('this master leads') ? [m2, m1] : undefined), 30_000);
    const admin = { caPem: ca.certPem };

    // WHEN a join token made at A is used at B
    const token = await createJoinToken(a.address, admin, 'agent', 600_000, SHARED);
    const keyPem = newPrivateKey();
    const joined = await joinGrid(b.address, ca.certPem, token.token, 'a1', createCsr(keyPem, 'a1'));
    expect(joined.role).toBe('agent');
    // THEN it is used up at A too
    expect(await refusalOf(joinGrid(a.address, ca.certPem, token.token, 'a1', createCsr(keyPem, 'a1')))).toBe(GrpcStatus.UNAUTHENTICATED);
    // and a token revoked at B cannot join at A
    const revoked = await createJoinToken(a.address, admin, 'agent', 600_000, SHARED);
    await revokeJoinToken(b.address, admin, revoked.tokenId, SHARED);
    expect(await refusalOf(joinGrid(a.address, ca.certPem, revoked.token, 'a3', createCsr(keyPem, 'a3')))).toBe(GrpcStatus.UNAUTHENTICATED);

    // WHEN one token is used at A and at B at the same time, several times over
    for (let i = 0; i < 5; i++) {
      const raced = await createJoinToken(i % 2 === 0 ? a.address : b.address, admin, 'agent', 600_000, SHARED);
      const outcomes = await Promise.all([a, b].map((m) => refusalOf(joinGrid(m.address, ca.certPem, raced.token, `r${i}`, createCsr(keyPem, `r${i}`)))));
      // THEN exactly one joins; the other is refused as for a used token
      expect(outcomes.sort()).toEqual([GrpcStatus.UNAUTHENTICATED, 'accepted'].sort());
    }

    // WHEN an API token is made at A
    const api = await createJoinToken(a.address, admin, 'reader', 600_000, SHARED, { api: true });
    // THEN B's HTTP API takes it (and refuses one with a wrong secret)
    const wrong = `${api.token.slice(0, -1)}${api.token.endsWith('A') ? 'B' : 'A'}`;
    expect(await httpStatus(b.http, ca.certPem, '/api/grid/status', wrong)).toBe(401);
    expect(await httpStatus(b.http, ca.certPem, '/api/grid/status', api.token)).toBe(200);
    // and once revoked at B, A's HTTP API refuses it
    await revokeJoinToken(b.address, admin, api.tokenId, SHARED);
    expect(await httpStatus(a.http, ca.certPem, '/api/grid/status', api.token)).toBe(401);

    // GIVEN agent a1 (joined at B) registers at the leader A
    const credential: TlsMaterial = { caPem: joined.caPem, certPem: joined.certPem, keyPem };
    const agent = clientOf(a.address, credential);
    expect((await codeOf(agent.register(fakeAgent('a1')))).code).toBe(0);
    // WHEN it is revoked at B
    await revokeCredential(b.address, admin, { agentId: 'a1' }, SHARED);
    const revokedAt = Date.now();
    // THEN A refuses its calls within the bound
    const refusal = await eventually(async () => {
      const r = await codeOf(agent.register(fakeAgent('a1')));
      return r.code === GrpcStatus.UNAUTHENTICATED || r.code === GrpcStatus.PERMISSION_DENIED ? r : undefined;
    }, REVOCATION_BOUND_MS, 50);
    expect(Date.now() - revokedAt).toBeLessThan(REVOCATION_BOUND_MS + 1000);
    expect(refusal.code).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(refusal.details).toMatch(/revoked/);
    // and B, which made the revocation, refuses it at once
    expect((await codeOf(clientOf(b.address, credential).register(fakeAgent('a1')))).code).toBe(GrpcStatus.UNAUTHENTICATED);
  }, 300_000);

  it('store level: records reach the other store; expired ones are pruned from etcd on a write; a token is taken once', async () => {
    const prefix = `/creds-${process.pid}/`;
    let now = Date.now();
    const open = async (): Promise<{ store: EtcdCredentialStore; registry: CredentialRegistry }> => {
      const client = new Etcd3({ hosts: cluster.endpoints.map((e) => `http://${e}`), defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + 3000 }) });
      etcdClients.push(client);
      const store = new EtcdCredentialStore({ client, prefix, endpoints: cluster.endpoints, now: () => now });
      stores.push(store);
      await store.open();
      return { store, registry: new CredentialRegistry(store, { certTtlMs: 3_600_000, now: () => now }) };
    };
    const [one, two] = [await open(), await open()];
    const raw = etcdClients[0]!;

    // an API token made through one store is known to the other as soon as its watch delivers it
    const api = await one.registry.createToken('operator', 60_000, true);
    expect(await eventually(() => two.registry.apiTokenIdentity(api.token), 3000, 20)).toEqual({ role: 'operator', name: `token:${api.id}` });

    // a record read at open: a third store sees what was written before it started
    await one.registry.recordIssued('EE01', { role: 'agent', name: 'a7' }, now + 1000, false);
    await eventually(() => two.store.get('issued', 'EE01'), 3000, 20);
    await two.registry.revoke({ agentId: 'a7' });
    // in force at once where it was made; at the other store once its watch delivers it
    expect(two.registry.isRevoked('EE01', { role: 'agent', name: 'a7' })).toBe(true);
    expect(await eventually(() => one.registry.isRevoked('EE01', { role: 'reader', name: 'x' }), 3000, 20)).toBe(true);
    const three = await open();
    expect(three.registry.isRevoked('EE01', { role: 'reader', name: 'x' })).toBe(true);
    expect((await raw.getAll().prefix(`${prefix}credentials/revokedSerials/`).keys()).length).toBe(1);

    // WHEN the certificate has expired and another write happens
    now += 2000;
    await one.registry.recordIssued('EE02', { role: 'reader', name: 'r' }, now + 60_000, false);
    // THEN the issued and revoked serial records are gone from etcd and from the other views
    expect(await raw.getAll().prefix(`${prefix}credentials/revokedSerials/`).keys()).toEqual([]);
    expect((await raw.getAll().prefix(`${prefix}credentials/issued/`).keys()).sort()).toEqual([`${prefix}credentials/issued/EE02`]);
    expect(await eventually(() => [...two.store.entries('revokedSerials')].length === 0, 3000, 20)).toBe(true);

    // a join token taken by both stores at once: exactly one gets it
    for (let i = 0; i < 10; i++) {
      const t = await one.registry.createToken('agent', 60_000);
      const got = await Promise.all([one, two, three].map((s) => s.registry.consumeToken(t.token).then(() => 1, () => 0)));
      expect(got.reduce((x: number, y: number) => x + y, 0)).toBe(1);
    }
  }, 120_000);
});
