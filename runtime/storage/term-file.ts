import { lstat, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RuntimeError } from '../errors.js';
import { MAX_SYNC_QUORUM, MAX_TERM, type DurabilityName, type StorageRoleName } from './replication-options.js';

/** A node's role within a term, as the grid last assigned it. */
export interface RoleAssignment {
  readonly role: StorageRoleName;
  /** HOST:PORT of the leader for a replica; empty otherwise (or when a deposed leader does not know it). */
  readonly leader: string;
  readonly term: number;
  readonly durability: DurabilityName;
  readonly syncQuorum: number;
}

/** Name of the file, in the node's storage path. */
export const TERM_FILE = 'term.json';
const MAX_BYTES = 4096;

function damaged(path: string, problem: string): RuntimeError {
  return new RuntimeError(
    'STATE_DAMAGED',
    `${path} ${problem}; it records the highest leadership term this node has seen, so the node will not guess it: restore it, or remove it only if this node's data is to be discarded`,
    { file: path },
  );
}

function parse(path: string, text: string): RoleAssignment {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw damaged(path, 'is not valid JSON');
  }
  const a = v as Partial<Record<keyof RoleAssignment, unknown>> | null;
  const ok =
    typeof a === 'object' &&
    a !== null &&
    (a.role === 'standalone' || a.role === 'leader' || a.role === 'replica') &&
    typeof a.leader === 'string' &&
    a.leader.length <= 261 &&
    typeof a.term === 'number' &&
    Number.isSafeInteger(a.term) &&
    a.term >= 0 &&
    a.term <= MAX_TERM &&
    (a.durability === 'async' || a.durability === 'sync') &&
    typeof a.syncQuorum === 'number' &&
    Number.isInteger(a.syncQuorum) &&
    a.syncQuorum >= 1 &&
    a.syncQuorum <= MAX_SYNC_QUORUM;
  if (!ok) throw damaged(path, 'does not hold {role, leader, term, durability, syncQuorum}');
  return { role: a.role, leader: a.leader, term: a.term, durability: a.durability, syncQuorum: a.syncQuorum } as RoleAssignment;
}

/**
 * `term.json` in a node's storage path: the highest term the node has seen and the role it holds in
 * it. Written atomically (a temp file in the same directory, fsynced, renamed over the old one, the
 * directory fsynced) so a crash leaves the old or the new assignment, never a torn one; never read
 * or written through a symbolic link, so it stays inside the storage path.
 */
export class TermFile {
  readonly path: string;
  private readonly tmpPath: string;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly dir: string) {
    this.path = join(dir, TERM_FILE);
    this.tmpPath = join(dir, `.${TERM_FILE}.tmp`);
  }

  /** The stored assignment, or undefined when there is none. @throws RuntimeError STATE_DAMAGED naming the file */
  async read(): Promise<RoleAssignment | undefined> {
    let st;
    try {
      st = await lstat(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    if (!st.isFile()) throw damaged(this.path, 'is not a regular file');
    if (st.size > MAX_BYTES) throw damaged(this.path, `is larger than ${MAX_BYTES} bytes`);
    return parse(this.path, await readFile(this.path, 'utf8'));
  }

  /** Replaces the stored assignment; writes run one at a time, in call order. */
  write(a: RoleAssignment): Promise<void> {
    const next = this.writing.then(() => this.writeNow(a));
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async writeNow(a: RoleAssignment): Promise<void> {
    await rm(this.tmpPath, { force: true });
    // 'wx' creates a new file and fails on anything already there, a planted symbolic link included.
    const fh = await open(this.tmpPath, 'wx', 0o644);
    try {
      await fh.writeFile(`${JSON.stringify(a)}\n`);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(this.tmpPath, this.path);
    const dirHandle = await open(this.dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  }
}

/**
 * The assignment a node starts with. A node started standalone is standalone. Otherwise the term
 * file wins over the flags unless the flags carry a higher term: an agent restarting a node passes the flags it was first spawned with, and a node
 * promoted or deposed since then must not go back to its old role. A leader whose log already holds
 * records of a later term than its own (someone else led since) starts deposed: a replica with no
 * known leader, refusing writes until the grid says who leads.
 */
export function startingAssignment(flags: RoleAssignment, file: RoleAssignment | undefined, lastLogTerm: number): { assignment: RoleAssignment; note: string } {
  // A node started standalone never took a replication role since (a standalone node refuses role
  // changes): a term file saying otherwise is left by an earlier node of a removed cluster that had
  // the same id and data directory, and following it would make this one a leader or a replica
  // nobody assigned (a replica without a node id cannot even start).
  if (flags.role === 'standalone') {
    const note = file !== undefined && file.role !== 'standalone' ? `${TERM_FILE} (term ${file.term}, ${file.role}) was left by an earlier node with this data directory: starting standalone, as the flags say` : '';
    return { assignment: flags, note };
  }
  let a = flags;
  let note = '';
  if (file !== undefined && file.term >= flags.term) {
    a = file;
    if (JSON.stringify(file) !== JSON.stringify(flags)) note = `${TERM_FILE} (term ${file.term}, ${file.role}) is at least as recent as the flags (term ${flags.term}, ${flags.role}): following it`;
  }
  if (lastLogTerm > a.term) {
    note = `the log holds records of term ${lastLogTerm}, past term ${a.term}`;
    a = a.role === 'leader' ? { ...a, role: 'replica', leader: '', term: lastLogTerm } : { ...a, term: lastLogTerm };
    note += a.role === 'replica' && a.leader === '' ? ': starting deposed, refusing writes until told who leads' : `: taking term ${lastLogTerm}`;
  }
  return { assignment: a, note };
}
