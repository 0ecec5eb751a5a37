/** `sutra-grid join`: a client credential from a join token, the CA pinned by hash. */
import { fetchPinnedCa, joinGrid } from '../../../client/index.js';
import { createCsr, newPrivateKey } from './certs.js';
import { writeCredentialDir } from './credential-dir.js';

/** Joins as a client; writes the credential to `out`. @returns the role granted. */
export async function joinAsClient(o: { token: string; master: string; caHash: string; name: string; out: string }): Promise<string> {
  const caPem = await fetchPinnedCa(o.master, o.caHash);
  const keyPem = newPrivateKey();
  const joined = await joinGrid(o.master, caPem, o.token, o.name, createCsr(keyPem, o.name));
  writeCredentialDir(o.out, { caPem, certPem: joined.certPem, keyPem });
  return joined.role;
}
