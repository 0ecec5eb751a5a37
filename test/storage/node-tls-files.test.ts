/**
 * A node's credential files (issue 14): read from `--tls-dir`, refused naming the flag when missing
 * or mismatched, and replaced in force only by a whole, matching pair (the agent writes the key
 * before the certificate, so a reader may see the new key with the old certificate for a moment).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCa, issueKeyAndCert } from '../../runtime/common/pki/certs.js';
import { writeCredentialDir } from '../../runtime/common/pki/credential-dir.js';
import { NodeTlsFiles } from '../../runtime/storage/node-tls.js';
import { roleSatisfies, requirementOf } from '../../runtime/common/rpc-roles.js';
import { compileStorageFlags, parseStorageArgv } from '../../runtime/storage/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const ca = createCa('test CA');
const leaf = (): { keyPem: string; certPem: string } => issueKeyAndCert(ca, { role: 'node', name: 'kv-0' }, { ttlMs: 60_000 });

function dirWith(m: { keyPem: string; certPem: string }): string {
  const d = mkdtempSync(join(tmpdir(), 'sg-node-tls-'));
  dirs.push(d);
  writeCredentialDir(d, { caPem: ca.certPem, ...m });
  return d;
}

describe('node credential files', () => {
  it('refuses a missing directory or a key that is not the certificate\'s, naming --tls-dir', () => {
    expect(() => NodeTlsFiles.open('/nonexistent/tls', () => undefined)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', context: { field: '--tls-dir' } }));
    const d = dirWith(leaf());
    writeFileSync(join(d, 'key.pem'), leaf().keyPem);
    expect(() => NodeTlsFiles.open(d, () => undefined)).toThrow(/key.pem is not the key of cert.pem/);
  });

  it('takes a renewed pair, and ignores a key written before its certificate', () => {
    const first = leaf();
    const d = dirWith(first);
    const lines: string[] = [];
    const files = NodeTlsFiles.open(d, (l) => lines.push(l));
    const next = leaf();
    // Half written: the new key with the old certificate
    writeFileSync(join(d, 'key.pem'), next.keyPem);
    files.reload();
    expect(files.source.material.certPem).toBe(first.certPem);
    expect(files.source.version).toBe(0);
    // Whole
    writeFileSync(join(d, 'cert.pem'), next.certPem);
    files.reload();
    expect(files.source.material).toMatchObject({ certPem: next.certPem, keyPem: next.keyPem });
    expect(files.source.version).toBe(1);
    expect(lines.some((l) => l.startsWith('node certificate renewed'))).toBe(true);
    // Unchanged files change nothing
    files.reload();
    expect(files.source.version).toBe(1);
  });

  it('takes --agent-id (the one agent that may drive the node) only with --tls-dir, and only a plain id', () => {
    const base = ['--port', '1', '--storage-path', '/d'];
    expect(compileStorageFlags(parseStorageArgv([...base, '--tls-dir', '/t', '--agent-id', 'a-1.x'])).agentId).toBe('a-1.x');
    expect(() => compileStorageFlags(parseStorageArgv([...base, '--agent-id', 'a1']))).toThrow(expect.objectContaining({ context: { field: '--agent-id' } }));
    expect(() => compileStorageFlags(parseStorageArgv([...base, '--tls-dir', '/t', '--agent-id', 'a1 --x']))).toThrow(/--agent-id.*must be 1-128 letters/);
  });

  it('lets a node certificate replicate and nothing else', () => {
    for (const path of ['Replicate', 'AckReplication']) expect(roleSatisfies('node', requirementOf(`/sutra.grid.v1.StorageReplication/${path}`)!.role as never)).toBe(true);
    for (const path of ['/sutra.grid.v1.StorageService/QueryConcept', '/sutra.grid.v1.StorageService/LearnConcept', '/sutra.grid.v1.StorageControl/SetRole', '/sutra.grid.v1.StorageControl/RenewLease', '/sutra.grid.v1.GridMaster/ListNodes', '/sutra.grid.v1.GridSecurity/IssueNodeCertificate']) {
      expect(roleSatisfies('node', requirementOf(path)!.role as never), path).toBe(false);
    }
    expect(roleSatisfies('agent', requirementOf('/sutra.grid.v1.StorageControl/RenewLease')!.role as never)).toBe(true);
    expect(roleSatisfies('agent', requirementOf('/sutra.grid.v1.StorageReplication/Replicate')!.role as never)).toBe(false);
  });
});
