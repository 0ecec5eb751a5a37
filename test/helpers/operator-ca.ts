/** The operator's CA as files, and the master flags that give it (`--tls-ca-cert`, `--tls-ca-key`). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCa, type KeyAndCert } from '../../runtime/common/pki/certs.js';
import { tempDir } from './processes.js';

export function operatorCa(): { ca: KeyAndCert; args: string[]; dir: string } {
  const dir = tempDir('sga-operator-ca-');
  const ca = createCa('operator CA');
  writeFileSync(join(dir, 'ca.pem'), ca.certPem, { mode: 0o600 });
  writeFileSync(join(dir, 'ca-key.pem'), ca.keyPem, { mode: 0o600 });
  return { ca, dir, args: ['--tls-ca-cert', join(dir, 'ca.pem'), '--tls-ca-key', join(dir, 'ca-key.pem')] };
}
