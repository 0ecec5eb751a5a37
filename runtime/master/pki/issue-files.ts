/** `sutra-grid cert issue`: a credential from the master's CA, written as files on the master's host. */
import { isGridRole, isIdentityName } from '../../../client/transport.js';
import { ConfigError } from '../../errors.js';
import { issueKeyAndCert } from '../../common/pki/certs.js';
import { writeCredentialDir } from '../../common/pki/credential-dir.js';
import { CredentialRegistry } from './credential-registry.js';
import { FileCredentialStore } from './file-credential-store.js';
import { loadOrCreateCa, type GivenCa } from './pki-files.js';

export interface IssueFilesOptions {
  readonly dataDir: string;
  readonly role: string;
  readonly name: string;
  readonly out: string;
  readonly ttlMs: number;
  readonly givenCa?: GivenCa | undefined;
}

/**
 * Issues key and certificate for `role`/`name` and writes them to `out` (0600).
 * @returns the certificate serial.
 * @throws ConfigError naming `--role` or `--name`.
 */
export async function issueCredentialFiles(o: IssueFilesOptions): Promise<string> {
  // `node`: a storage-server the operator runs by hand under --tls-dir (the master's --event-storage).
  if (!isGridRole(o.role) || o.role === 'master') throw new ConfigError('--role', `must be reader, operator, admin, agent or node, got ${JSON.stringify(o.role)}`);
  if (!isIdentityName(o.name)) throw new ConfigError('--name', 'must be 1-63 letters, digits, ".", "_" or "-"');
  const ca = loadOrCreateCa(o.dataDir, o.givenCa);
  const leaf = issueKeyAndCert(ca, { role: o.role, name: o.name }, { ttlMs: o.ttlMs });
  // (the master's file only: masters on --store keep credentials in etcd, and do not see this record)
  const store = new FileCredentialStore(o.dataDir, { legacyKeepMs: o.ttlMs });
  await new CredentialRegistry(store, { certTtlMs: o.ttlMs }).recordIssued(leaf.serial, { role: o.role, name: o.name }, leaf.notAfter.getTime(), false);
  writeCredentialDir(o.out, { caPem: ca.certPem, certPem: leaf.certPem, keyPem: leaf.keyPem });
  return leaf.serial;
}
