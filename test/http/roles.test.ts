/**
 * Roles on the HTTP API (issue 14): a master with mutual TLS serves its HTTP API over HTTPS with
 * the grid's certificate; callers come with an API token of one role (`token create --api`) or a
 * client certificate of the grid CA, each route needs a role, and refused calls name it. Real
 * processes; requests from this process over real TLS.
 */
import { request } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCa, issueKeyAndCert } from '../../runtime/common/pki/certs.js';
import { gridSpec } from '../declarative/support/declarative-grid.js';
import { runCli, startDaemon, tempDir, type DaemonProcess } from '../helpers/processes.js';

const SHARED = 'roles-test-shared-token-0123456789';
let daemons: DaemonProcess[] = [];

/** A master with TLS and the HTTP API; a TLS start (keys, certificates) is slow on a loaded machine. */
function startTlsMaster(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<DaemonProcess> {
  return startDaemon('master', ['master', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--tls', 'on', '--http', '127.0.0.1:0'], { env, timeoutMs: 90_000 });
}

afterEach(async () => {
  await Promise.all(daemons.map((d) => d.stop('SIGTERM', 10_000)));
  daemons = [];
});

interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

interface Credential {
  readonly bearer?: string;
  readonly cert?: { certPem: string; keyPem: string };
}

/** One HTTPS request trusting `caPem`, with a bearer token and/or a client certificate. */
function call(base: string, caPem: string, path: string, who: Credential, body?: { type: string; text: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      {
        method: body === undefined ? 'GET' : 'POST',
        ca: caPem,
        // The master's certificate names its listen address, not the test's host name.
        checkServerIdentity: () => undefined,
        ...(who.cert !== undefined ? { cert: who.cert.certPem, key: who.cert.keyPem } : {}),
        headers: {
          ...(who.bearer !== undefined ? { authorization: `Bearer ${who.bearer}` } : {}),
          ...(body !== undefined ? { 'content-type': body.type } : {}),
        },
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : { text } }));
      },
    );
    req.on('error', reject);
    req.end(body?.text);
  });
}

const json = (v: unknown): { type: string; text: string } => ({ type: 'application/json', text: JSON.stringify(v) });

describe('HTTP API roles with mutual TLS', () => {
  it('API tokens and client certificates carry roles; refusals name the role; revoked and foreign credentials are refused', async () => {
    // GIVEN a master with TLS and the HTTP API, and an admin credential issued from its CA
    const dataDir = tempDir('sga-http-master-');
    const adminDir = tempDir('sga-http-admin-');
    const issued = await runCli(['cert', 'issue', '--data-dir', dataDir, '--role', 'admin', '--name', 'ops', '--out', adminDir]);
    expect(issued.code, issued.stderr).toBe(0);
    const master = await startTlsMaster(dataDir, { SUTRA_GRID_TOKEN: SHARED });
    daemons.push(master);
    const m = await master.waitForLog(/master HTTP API listening on https:\/\/([^\s"]+)/);
    const base = `https://${m[1]!}`;
    const caPem = readFileSync(join(dataDir, 'pki', 'ca.pem'), 'utf8');
    const ca = { certPem: caPem, keyPem: readFileSync(join(dataDir, 'pki', 'ca-key.pem'), 'utf8') };
    const apiToken = async (role: string): Promise<{ token: string; id: string }> => {
      const r = await runCli(['token', 'create', '--role', role, '--api', '--master', master.address, '--tls-dir', adminDir]);
      expect(r.code, r.stderr).toBe(0);
      return { token: r.stdout.trim(), id: /API token ([0-9a-f]{12})/.exec(r.stderr)![1]! };
    };
    const reader = await apiToken('reader');
    const operator = await apiToken('operator');
    const spec = json(gridSpec([{ id: 'a1' }], []));

    // No credential, or a wrong one: 401.
    const none = await call(base, caPem, '/api/grid/status', {});
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ grpcCode: 'UNAUTHENTICATED' });
    expect((await call(base, caPem, '/api/grid/status', { bearer: `${reader.token.slice(0, -1)}x` })).status).toBe(401);
    // A join token is not an API token.
    const joinToken = await runCli(['token', 'create', '--role', 'reader', '--master', master.address, '--tls-dir', adminDir]);
    expect(joinToken.code, joinToken.stderr).toBe(0);
    expect((await call(base, caPem, '/api/grid/status', { bearer: joinToken.stdout.trim() })).status).toBe(401);

    // A reader reads and plans, and is refused changes, by name of the role missing.
    expect((await call(base, caPem, '/api/grid/status', { bearer: reader.token })).status).toBe(200);
    expect((await call(base, caPem, '/api/grid/agents', { bearer: reader.token })).status).toBe(200);
    expect((await call(base, caPem, '/api/grid/plan', { bearer: reader.token }, spec)).status).toBe(200);
    const stop = await call(base, caPem, '/api/grid/stop', { bearer: reader.token }, json({ nodeId: 'n1' }));
    expect(stop.status).toBe(403);
    expect(stop.body).toMatchObject({ grpcCode: 'PERMISSION_DENIED', requiredRole: 'operator' });
    expect(String(stop.body['detail'])).toMatch(/POST \/api\/grid\/stop requires role operator; the caller "token:[0-9a-f]{12}" has role reader/);
    expect((await call(base, caPem, '/api/grid/apply?expectedGeneration=0', { bearer: reader.token }, spec)).status).toBe(403);

    // An operator passes the role check: stop reaches the master (no such node: 404), apply applies.
    const opStop = await call(base, caPem, '/api/grid/stop', { bearer: operator.token }, json({ nodeId: 'n1' }));
    expect(opStop.status, JSON.stringify(opStop.body)).toBe(404);
    const applied = await call(base, caPem, '/api/grid/apply?expectedGeneration=0', { bearer: operator.token }, spec);
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    expect(applied.body).toMatchObject({ generation: 1 });

    // The shared token keeps all powers.
    expect((await call(base, caPem, '/api/grid/stop', { bearer: SHARED }, json({ nodeId: 'n1' }))).status).toBe(404);

    // Revoking an API token refuses it at once; the other still works.
    const revoked = await runCli(['token', 'revoke', reader.id, '--master', master.address, '--tls-dir', adminDir]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await call(base, caPem, '/api/grid/status', { bearer: reader.token })).status).toBe(401);
    expect((await call(base, caPem, '/api/grid/status', { bearer: operator.token })).status).toBe(200);

    // Client certificates of the grid CA: the role of their identity, as on gRPC.
    const readerCert = issueKeyAndCert(ca, { role: 'reader', name: 'viewer' }, { ttlMs: 3_600_000 });
    expect((await call(base, caPem, '/api/grid/nodes', { cert: readerCert })).status).toBe(200);
    const certStop = await call(base, caPem, '/api/grid/stop', { cert: readerCert }, json({ nodeId: 'n1' }));
    expect(certStop.status).toBe(403);
    expect(String(certStop.body['detail'])).toMatch(/requires role operator; the caller "viewer" has role reader/);
    const agentCert = issueKeyAndCert(ca, { role: 'agent', name: 'a1' }, { ttlMs: 3_600_000 });
    expect((await call(base, caPem, '/api/grid/status', { cert: agentCert })).status).toBe(403);
    const adminCert = issueKeyAndCert(ca, { role: 'admin', name: 'boss' }, { ttlMs: 3_600_000 });
    expect((await call(base, caPem, '/api/grid/stop', { cert: adminCert }, json({ nodeId: 'n1' }))).status).toBe(404);
    // A certificate of another CA is no credential: 401.
    const stranger = issueKeyAndCert(createCa('another CA'), { role: 'admin', name: 'mallory' }, { ttlMs: 3_600_000 });
    const foreign = await call(base, caPem, '/api/grid/status', { cert: stranger });
    expect(foreign.status).toBe(401);
    // A revoked serial is refused at once.
    const r = await runCli(['cert', 'revoke', '--serial', adminCert.serial, '--master', master.address, '--tls-dir', adminDir]);
    expect(r.code, r.stderr).toBe(0);
    const afterRevoke = await call(base, caPem, '/api/grid/status', { cert: adminCert });
    expect(afterRevoke.status).toBe(401);
    expect(String(afterRevoke.body['detail'])).toMatch(/revoked/);

    // Plain HTTP gets no answer from the HTTPS port.
    await expect(fetch(`http://${m[1]!}/api/grid/status`, { headers: { authorization: `Bearer ${SHARED}` } })).rejects.toThrow();
  }, 240_000);

  it('an API token cannot be made for the agent role, nor used to join', async () => {
    const dataDir = tempDir('sga-http-master-');
    const adminDir = tempDir('sga-http-admin-');
    expect((await runCli(['cert', 'issue', '--data-dir', dataDir, '--role', 'admin', '--name', 'ops', '--out', adminDir])).code).toBe(0);
    const master = await startTlsMaster(dataDir);
    daemons.push(master);
    const agentApi = await runCli(['token', 'create', '--role', 'agent', '--api', '--master', master.address, '--tls-dir', adminDir]);
    expect(agentApi.code).not.toBe(0);
    expect(agentApi.stderr).toMatch(/role: must be reader, operator or admin/);
    const api = await runCli(['token', 'create', '--role', 'admin', '--api', '--master', master.address, '--tls-dir', adminDir]);
    expect(api.code, api.stderr).toBe(0);
    const caHash = /sha256:[0-9a-f]{64}/.exec(master.logs())![0];
    const joined = await runCli(['join', '--token', api.stdout.trim(), '--master', master.address, '--ca-hash', caHash, '--name', 'x', '--out', tempDir('sga-join-')]);
    expect(joined.code).not.toBe(0);
    expect(joined.stderr).toMatch(/join token is invalid/);
  }, 180_000);
});
