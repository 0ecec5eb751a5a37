/** A credential directory: `ca.pem`, `cert.pem`, `key.pem`, each 0600, the directory 0700. */
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes a credential into `dir` (each file whole: temp then rename; the key first). */
export function writeCredentialDir(dir: string, m: { caPem: string; certPem: string; keyPem: string }): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  for (const [name, text] of [['key.pem', m.keyPem], ['ca.pem', m.caPem], ['cert.pem', m.certPem]] as const) {
    const tmp = join(dir, `${name}.tmp`);
    writeFileSync(tmp, text, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, join(dir, name));
  }
}
