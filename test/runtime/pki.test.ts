/**
 * The grid's PKI and role table (issue 14), without the network: certificates carry the identity
 * the CA chose, tokens are kept only as hashes and work once, and every RPC of every service has a
 * role requirement.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { afterEach, describe, expect, it } from 'vitest';
import { GridMasterService } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { GridAgentService } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { GridSecurityService } from '../../proto/gen/sutra/grid/v1/security.pb.js';
import { caHash, createCa, createCsr, issueLeaf, newPrivateKey } from '../../runtime/common/pki/certs.js';
import { identityFromAltNames } from '../../client/transport.js';
import { requirementOf, roleSatisfies } from '../../runtime/common/rpc-roles.js';
import { GridPki } from '../../runtime/master/pki/grid-pki.js';
import { cleanup, tempDir } from '../helpers/processes.js';

afterEach(cleanup);

describe('grid PKI', () => {
  it('issues a certificate naming the identity the CA chose, whatever the CSR asked for', () => {
    const ca = createCa('test CA');
    const key = newPrivateKey();
    const leaf = issueLeaf(ca, createCsr(key, 'i-am-admin'), { role: 'agent', name: 'a1' }, { ttlMs: 60_000 });
    const cert = new X509Certificate(leaf.certPem);
    expect(identityFromAltNames(cert.subjectAltName)).toEqual({ role: 'agent', name: 'a1' });
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(cert.serialNumber.toUpperCase()).toBe(leaf.serial);
    expect(caHash(ca.certPem)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('refuses a CSR whose signature does not match its key, naming the field', () => {
    const ca = createCa('test CA');
    // A request signed by one key but carrying another's public key: someone else's key, claimed.
    const signer = forge.pki.privateKeyFromPem(newPrivateKey());
    const other = forge.pki.privateKeyFromPem(newPrivateKey());
    const csr = forge.pki.createCertificationRequest();
    csr.publicKey = forge.pki.setRsaPublicKey(other.n, other.e);
    csr.setSubject([{ name: 'commonName', value: 'x' }]);
    csr.sign(signer, forge.md.sha256.create());
    const tampered = forge.pki.certificationRequestToPem(csr);
    expect(() => issueLeaf(ca, tampered, { role: 'reader', name: 'r' }, { ttlMs: 1000 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', context: { field: 'csr' } }));
  });

  it('keeps the CA and tokens in 0600 files, tokens only as hashes; a token works once', async () => {
    const dataDir = tempDir('pki-');
    const pki = new GridPki({ dataDir, masterId: 'm1', hosts: ['127.0.0.1'], certTtlMs: 3_600_000 });
    const t = await pki.createJoinToken('agent', 60_000);
    for (const f of ['ca.pem', 'ca-key.pem', 'credentials.json']) expect(statSync(join(dataDir, 'pki', f)).mode & 0o777).toBe(0o600);
    const stored = readFileSync(join(dataDir, 'pki', 'credentials.json'), 'utf8');
    expect(stored).not.toContain(t.token.split('.')[2]!);
    const csr = createCsr(newPrivateKey(), 'a1');
    expect((await pki.join(t.token, 'a1', csr)).role).toBe('agent');
    await expect(pki.join(t.token, 'a1', csr)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(pki.createJoinToken('master', 60_000)).rejects.toMatchObject({ context: { field: 'role' } });
  });

  it('refuses an expired join token', async () => {
    let now = Date.now();
    const pki = new GridPki({ dataDir: tempDir('pki-'), masterId: 'm1', hosts: [], certTtlMs: 3_600_000, now: () => now });
    const t = await pki.createJoinToken('reader', 1000);
    now += 2000;
    await expect(pki.join(t.token, 'r', createCsr(newPrivateKey(), 'r'))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('revokes by serial and by agent id; a new join of the agent lifts the id revocation, not the old serials', async () => {
    const pki = new GridPki({ dataDir: tempDir('pki-'), masterId: 'm1', hosts: [], certTtlMs: 3_600_000 });
    const first = await pki.issueLocal({ role: 'agent', name: 'a1' });
    await pki.registry.revoke({ agentId: 'a1' });
    expect(pki.registry.isRevoked('00', { role: 'agent', name: 'a1' })).toBe(true);
    const t = await pki.createJoinToken('agent', 60_000);
    await pki.join(t.token, 'a1', createCsr(newPrivateKey(), 'a1'));
    expect(pki.registry.isRevoked('00', { role: 'agent', name: 'a1' })).toBe(false);
    expect(pki.registry.isRevoked(first.serial, { role: 'agent', name: 'a1' })).toBe(true);
  });
});

describe('role table', () => {
  it('has a requirement for every RPC of GridMaster, GridAgent and GridSecurity', () => {
    for (const service of [GridMasterService, GridAgentService, GridSecurityService]) {
      for (const method of Object.values(service)) expect(requirementOf(method.path), method.path).toBeDefined();
    }
  });

  it('admin ⊇ operator ⊇ reader; agent and master stand apart (a master may read)', () => {
    expect(roleSatisfies('admin', 'operator')).toBe(true);
    expect(roleSatisfies('operator', 'reader')).toBe(true);
    expect(roleSatisfies('reader', 'operator')).toBe(false);
    expect(roleSatisfies('admin', 'agent')).toBe(false);
    expect(roleSatisfies('agent', 'reader')).toBe(false);
    expect(roleSatisfies('admin', 'master')).toBe(false);
    // a follower master forwards reads to the leader as itself, and may do nothing more
    expect(roleSatisfies('master', 'reader')).toBe(true);
    expect(roleSatisfies('master', 'operator')).toBe(false);
    expect(roleSatisfies('master', 'admin')).toBe(false);
  });
});
