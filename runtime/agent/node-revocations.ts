/**
 * Hands the master's revoked node certificates to this agent's nodes (issue 14): `revoked.txt` in
 * each node's credential directory, one hex serial per line, which the node watches and whose
 * certificates it then refuses (runtime/storage/node-tls.ts). So the nodes of a revoked agent are
 * refused by their peers at once, not only when their short-lived certificates expire.
 */
import { lstatSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REVOKED_FILE } from '../storage/node-tls.js';

/** The agent's side of the revocation list its nodes read. */
export class NodeRevocations {
  #content = '';
  /** Directories that hold the current content. */
  readonly #written = new Set<string>();

  /** @param root the directory of the nodes' credential directories (one per node id). */
  constructor(private readonly root: string) {}

  /**
   * Takes the list of a master's answer (undefined from a master that sends none: kept as it is)
   * and writes it where it is missing or out of date. Serials are public: the files are 0644.
   */
  update(serials: readonly string[] | undefined): void {
    if (serials === undefined) return;
    const content = serials.length === 0 ? '' : `${serials.join('\n')}\n`;
    if (content !== this.#content) {
      this.#content = content;
      this.#written.clear();
    }
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch {
      return; // no node has credentials yet
    }
    for (const name of names) {
      const dir = join(this.root, name);
      if (this.#written.has(dir)) continue;
      // A directory of the agent's own making only: never follow a link out of the data dir.
      if (!lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) continue;
      const tmp = join(dir, `.${REVOKED_FILE}.tmp`);
      writeFileSync(tmp, content, { mode: 0o644 });
      renameSync(tmp, join(dir, REVOKED_FILE));
      this.#written.add(dir);
    }
    for (const dir of this.#written) if (!names.includes(dir.slice(this.root.length + 1))) this.#written.delete(dir);
  }
}
