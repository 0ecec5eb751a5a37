/**
 * The master's PKI files, all under `<data-dir>/pki` (0700), each 0600 and written whole (temp file
 * then rename), so a crash never leaves half a key or half a token list.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { ConfigError } from '../../errors.js';
import { createCa, type KeyAndCert } from '../../common/pki/certs.js';

/** `<dataDir>/pki`, created 0700. */
export function pkiDir(dataDir: string): string {
  const dir = join(dataDir, 'pki');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}

/** A file of the pki dir by name; a name that would leave it is refused. */
export function pkiPath(dataDir: string, name: string): string {
  const dir = pkiDir(dataDir);
  const path = resolve(dir, name);
  if (!path.startsWith(resolve(dir) + sep)) throw new ConfigError('--data-dir', `${name} is outside the PKI directory`);
  return path;
}

/** Writes `text` to `path` with mode 0600, atomically. */
export function writePrivate(path: string, text: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Where the operator's own CA comes from (`--tls-ca-cert`, `--tls-ca-key`). */
export interface GivenCa {
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * The grid CA: the operator's when given, else the one in the data dir, made on first start.
 * @throws ConfigError naming the flag of an unreadable file.
 */
export function loadOrCreateCa(dataDir: string, given?: GivenCa): KeyAndCert {
  if (given !== undefined) {
    const read = (file: string, flag: string): string => {
      try {
        return readFileSync(file, 'utf8');
      } catch (err) {
        throw new ConfigError(flag, `cannot read ${file}: ${(err as Error).message}`, { cause: err });
      }
    };
    return { certPem: read(given.certFile, '--tls-ca-cert'), keyPem: read(given.keyFile, '--tls-ca-key') };
  }
  const certPath = pkiPath(dataDir, 'ca.pem');
  const keyPath = pkiPath(dataDir, 'ca-key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    return { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
  }
  const ca = createCa('sutra-grid CA');
  writePrivate(keyPath, ca.keyPem);
  writePrivate(certPath, ca.certPem);
  return ca;
}
