/** A credential directory: `ca.pem`, `cert.pem`, `key.pem`, each 0600, the directory 0700. */
import { chmodSync, chownSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The files of a credential directory. */
const FILES = ['key.pem', 'ca.pem', 'cert.pem'] as const;

/**
 * Another user who must read the credential (a container node running as its own uid), when the
 * writer is root. The files become that user's, still 0600; the directory stays the writer's, so
 * that user cannot plant a link in it for the writer to write through, and its group may only
 * enter it (0710): nobody else reads the key, nobody else lists the directory.
 */
export interface CredentialReader {
  readonly uid: number;
  readonly gid: number;
}

/**
 * Writes a credential into `dir` (each file whole: temp then rename; the key first). With `reader`,
 * each file is handed to it before it takes its name, so the reader never sees a file it cannot read.
 */
export function writeCredentialDir(dir: string, m: { caPem: string; certPem: string; keyPem: string }, reader?: CredentialReader): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (reader === undefined) chmodSync(dir, 0o700);
  else grantDir(dir, reader);
  const text = { 'key.pem': m.keyPem, 'ca.pem': m.caPem, 'cert.pem': m.certPem };
  for (const name of FILES) {
    const tmp = join(dir, `${name}.tmp`);
    writeFileSync(tmp, text[name], { mode: 0o600 });
    chmodSync(tmp, 0o600);
    if (reader !== undefined) chownSync(tmp, reader.uid, reader.gid);
    renameSync(tmp, join(dir, name));
  }
}

/**
 * Hands an existing credential directory to `reader` (or back to the writer alone): a credential
 * written before the reader changed (another `[docker].user`, another platform) is readable by the
 * node that now runs with it. The directory is the writer's (see {@link CredentialReader}), so the
 * names in it are not links someone else planted.
 */
export function grantCredentialDir(dir: string, reader: CredentialReader | undefined): void {
  const self = { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };
  grantDir(dir, reader ?? self);
  if (reader === undefined) chmodSync(dir, 0o700);
  for (const name of FILES) chownSync(join(dir, name), (reader ?? self).uid, (reader ?? self).gid);
}

/** The directory: the writer's, its group the reader's, which may only enter it. */
function grantDir(dir: string, reader: CredentialReader): void {
  chownSync(dir, process.getuid?.() ?? 0, reader.gid);
  chmodSync(dir, 0o710);
}
