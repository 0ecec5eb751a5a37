/**
 * The credential registry over a lone master's file store: bounded tokens, expired records pruned
 * from the file, a wrong secret that uses nothing up, and the file of older masters still read.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CredentialRegistry, MAX_OUTSTANDING_TOKENS } from '../../runtime/master/pki/credential-registry.js';
import { FileCredentialStore } from '../../runtime/master/pki/file-credential-store.js';
import { pkiDir } from '../../runtime/master/pki/pki-files.js';
import type { CredentialChange } from '../../runtime/master/pki/credential-store.js';
import { cleanup, tempDir } from '../helpers/processes.js';

afterEach(cleanup);

const HOUR = 3_600_000;

function open(dataDir: string, now: () => number): { store: FileCredentialStore; registry: CredentialRegistry } {
  const store = new FileCredentialStore(dataDir, { legacyKeepMs: HOUR, now });
  return { store, registry: new CredentialRegistry(store, { certTtlMs: HOUR, now }) };
}

function stored(dataDir: string): { version: number; records: Record<string, Record<string, unknown>> } {
  return JSON.parse(readFileSync(join(dataDir, 'pki', 'credentials.json'), 'utf8')) as { version: number; records: Record<string, Record<string, unknown>> };
}

describe('credential registry (file store)', () => {
  it('refuses a token past the outstanding bound, naming the field, and creates nothing; expired tokens do not count and are pruned', async () => {
    const dataDir = tempDir('creds-');
    let now = Date.now();
    const { store, registry } = open(dataDir, () => now);
    const many: CredentialChange[] = Array.from({ length: MAX_OUTSTANDING_TOKENS }, (_, i) => ({
      kind: 'tokens',
      key: i.toString(16).padStart(12, '0'),
      value: { sha256: '00'.repeat(32), role: 'agent', expiresAtMs: now + 1000 },
    }));
    await store.write(many);
    await expect(registry.createToken('agent', HOUR)).rejects.toMatchObject({ code: 'CAPACITY_EXCEEDED', context: { field: 'tokens' } });
    expect(Object.keys(stored(dataDir).records['tokens'] ?? {})).toHaveLength(MAX_OUTSTANDING_TOKENS);

    now += 2000;
    const t = await registry.createToken('agent', HOUR);
    // the write pruned every expired token from the file
    expect(Object.keys(stored(dataDir).records['tokens'] ?? {})).toEqual([t.id]);
  });

  it('a wrong secret uses nothing up; the right one works once, also after a restart', async () => {
    const dataDir = tempDir('creds-');
    const { registry } = open(dataDir, Date.now);
    const t = await registry.createToken('reader', HOUR);
    const wrong = `${t.token.slice(0, -1)}${t.token.endsWith('A') ? 'B' : 'A'}`;
    await expect(registry.consumeToken(wrong)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const again = open(dataDir, Date.now).registry;
    expect(await again.consumeToken(t.token)).toBe('reader');
    await expect(again.consumeToken(t.token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(open(dataDir, Date.now).registry.consumeToken(t.token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('keeps records of issued and revoked serials until the certificate expires, an agent revocation until its last certificate has', async () => {
    const dataDir = tempDir('creds-');
    let now = Date.now();
    const { registry } = open(dataDir, () => now);
    await registry.recordIssued('AB01', { role: 'agent', name: 'a1' }, now + 2 * HOUR, false);
    await registry.recordIssued('AB02', { role: 'reader', name: 'r1' }, now + HOUR / 2, false);
    await registry.revoke({ agentId: 'a1' });
    await registry.revoke({ serial: 'ab02' });
    expect(registry.isRevoked('FF', { role: 'agent', name: 'a1' })).toBe(true);
    expect(registry.isRevoked('AB01', { role: 'agent', name: 'a1' })).toBe(true);
    expect(registry.isRevoked('AB02', { role: 'reader', name: 'r1' })).toBe(true);
    expect(Object.keys(stored(dataDir).records['revokedSerials'] ?? {}).sort()).toEqual(['AB01', 'AB02']);

    // WHEN the reader's certificate has expired, then the agent's last one
    now += HOUR;
    await registry.recordIssued('CD01', { role: 'reader', name: 'r2' }, now + HOUR, false);
    expect(Object.keys(stored(dataDir).records['revokedSerials'] ?? {})).toEqual(['AB01']);
    expect(Object.keys(stored(dataDir).records['issued'] ?? {}).sort()).toEqual(['AB01', 'CD01']);
    now += 2 * HOUR;
    expect(registry.isRevoked('FF', { role: 'agent', name: 'a1' })).toBe(false);
    await registry.recordIssued('CD02', { role: 'reader', name: 'r3' }, now + HOUR, false);
    const after = stored(dataDir).records;
    expect(after['revokedAgents']).toEqual({});
    expect(after['revokedSerials']).toEqual({});
    expect(Object.keys(after['issued'] ?? {})).toEqual(['CD02']);
  });

  it('reads the file of an older master (no expiries), and writes it back in the new form', async () => {
    const dataDir = tempDir('creds-');
    pkiDir(dataDir);
    const legacy = {
      tokens: [{ id: '0123456789ab', sha256: '00'.repeat(32), role: 'agent', expiresAtMs: Date.now() + HOUR }],
      revokedSerials: ['AA11'],
      revokedAgents: ['a9'],
      issued: { AA11: { role: 'agent', name: 'a9' } },
    };
    writeFileSync(join(dataDir, 'pki', 'credentials.json'), JSON.stringify(legacy), { mode: 0o600 });
    const { registry } = open(dataDir, Date.now);
    expect(registry.isRevoked('AA11', { role: 'agent', name: 'x' })).toBe(true);
    expect(registry.isRevoked('00', { role: 'agent', name: 'a9' })).toBe(true);
    expect(await registry.revokeToken('0123456789ab')).toBe(true);
    const now = stored(dataDir);
    expect(now.version).toBe(2);
    expect(now.records['tokens']).toEqual({});
    expect(Object.keys(now.records['revokedAgents'] ?? {})).toEqual(['a9']);
  });
  it("revoking an agent revokes the node certificates issued to it, and only those; the list agents hand to nodes holds them until they expire", async () => {
    const dataDir = tempDir('creds-nodes-');
    let now = Date.now();
    const { store, registry } = open(dataDir, () => now);
    await store.open();
    await registry.recordIssued('AA01', { role: 'agent', name: 'a1' }, now + HOUR, true);
    await registry.recordIssued('BB01', { role: 'node', name: 'n1' }, now + HOUR, false, 'a1');
    await registry.recordIssued('BB02', { role: 'node', name: 'n2' }, now + 2 * HOUR, false, 'a2');
    expect(registry.revokedNodeSerials()).toEqual([]);
    await registry.revoke({ agentId: 'a1' });
    expect(registry.revokedNodeSerials()).toEqual(['BB01']);
    expect(registry.isRevoked('BB01', { role: 'node', name: 'n1' })).toBe(true);
    expect(registry.isRevoked('BB02', { role: 'node', name: 'n2' })).toBe(false);
    // A node serial revoked alone counts too; past its certificate's end it is dropped from the list.
    await registry.revoke({ serial: 'bb02' });
    expect(registry.revokedNodeSerials()).toEqual(['BB01', 'BB02']);
    now += HOUR + 1000;
    expect(registry.revokedNodeSerials()).toEqual(['BB02']);
  });
});
