import { copyFile, link, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RuntimeError } from '../errors.js';

/** The applied spec as the master keeps it. `specJson` empty means no spec (never applied, or deleted). */
export interface StoredSpec {
  /** Canonical JSON of the spec as the user wrote it (before compilation). */
  readonly specJson: string;
  /** Bumped on every stored change; never reused, also not after a delete. */
  readonly generation: number;
  readonly appliedAtMs: number;
  /** Current leader of each leader-replicas cluster: promotions survive a master restart. */
  readonly leaders: Readonly<Record<string, string>>;
  /**
   * The leadership term of each leader-replicas cluster: the term its recorded leader leads. Only
   * rises, and is kept across deletes and re-applies, so no term is ever given to two leaders.
   * Absent in specs stored before terms existed.
   */
  readonly terms?: Readonly<Record<string, number>>;
  /**
   * The operator's cordons (CordonAgent), by agent id: kept across applies and deletes, removed
   * only by UncordonAgent. Absent in specs stored before cordons existed.
   */
  readonly cordons?: Readonly<Record<string, StoredCordon>>;
  /**
   * Set by DeleteSpec. The last spec is kept so the reconciler still knows which nodes it owns and
   * stops them, also after a master restart; GetSpec reports no spec.
   */
  readonly deleted?: boolean;
  /**
   * The last spec the grid fully reached (every node placed and running, no rollout failed): what
   * a failed rollout with autoRevert goes back to. Absent until one was reached.
   */
  readonly good?: { readonly specJson: string; readonly generation: number };
}

/** An operator's cordon of one agent. */
export interface StoredCordon {
  /** Why, as the operator said it ('' for none). */
  readonly reason: string;
  /** When it was cordoned (ms since the epoch); for a drain, when the drain started. */
  readonly sinceMs: number;
  /**
   * Present while the agent is being drained (DrainAgent): when the drain's deadline passes (ms
   * since the epoch). Until then its nodes move away under their clusters' update policy; after
   * it, they move without waiting for one another.
   */
  readonly drainDeadlineMs?: number;
}

/**
 * Where the master keeps its desired state. The file store below is the embedded default; an
 * etcd-backed store implements the same interface so several masters can share one state.
 */
export interface SpecStore {
  /** The stored spec, or undefined when nothing was ever stored. */
  load(): Promise<StoredSpec | undefined>;
  /** Durably replaces the stored spec: when this resolves, a crash cannot lose or tear it. */
  save(spec: StoredSpec): Promise<void>;
  close(): Promise<void>;
}

/** The empty state before any apply. */
export const NO_SPEC: StoredSpec = { specJson: '', generation: 0, appliedAtMs: 0, leaders: {} };

/** What {@link FileSpecStore.load} did when `spec.json` was damaged and its last good copy was used. */
export interface SpecRecovery {
  /** The damaged (or missing) file. */
  readonly file: string;
  /** What is wrong with it, e.g. `is not valid JSON (Unexpected end of JSON input)`. */
  readonly problem: string;
  /** The last good copy the master started from. */
  readonly fallback: string;
  /** Where the damaged file was moved for inspection; empty when it was missing. */
  readonly damagedCopy: string;
  /** The generation the recovered spec is stored under (see `load`). */
  readonly generation: number;
}

/** Options of {@link FileSpecStore}. */
export interface FileSpecStoreOptions {
  /** Throws (with a message saying why) when a stored spec does not compile. */
  readonly check?: (specJson: string) => void;
  /** Told once `load` started from the last good copy; the damage is already set aside. */
  readonly onRecovered?: (recovery: SpecRecovery) => void;
}

type ReadResult = { readonly kind: 'ok'; readonly spec: StoredSpec } | { readonly kind: 'missing' } | { readonly kind: 'bad'; readonly problem: string };

/**
 * A single JSON file in the master's data dir, replaced atomically: write a temp file, fsync it,
 * rename over the old one, fsync the directory (so the rename itself survives a power loss).
 *
 * Before each replacement the current file, when it is known good, is hard-linked to
 * `spec.json.prev` (link to a temp name, then rename: atomic, no data copied). If `spec.json` is
 * later found damaged (truncated, garbage, a wrong shape, a spec that no longer compiles), the
 * master starts from that last good copy instead of refusing to start or, worse, starting from a
 * half-read state.
 */
export class FileSpecStore implements SpecStore {
  readonly path: string;
  readonly prevPath: string;
  /** Whether `spec.json` on disk is known good, so it may become the last good copy. */
  private primaryGood: boolean | undefined;

  constructor(
    dataDir: string,
    private readonly options: FileSpecStoreOptions = {},
  ) {
    this.path = join(dataDir, 'spec.json');
    this.prevPath = `${this.path}.prev`;
  }

  /**
   * Reads and validates `spec.json`, first removing temp files a crashed or failed save left.
   *
   * When it is damaged or missing and `spec.json.prev` is good, the damaged file is moved aside to
   * `spec.json.<ms>.damaged` and the last good copy is stored again under generation
   * `prev.generation + 2`: the damaged file may have held `prev.generation + 1` with another spec,
   * and a generation must never name two different specs.
   *
   * @throws GridError STATE_DAMAGED naming both files and what is wrong with each when neither is good.
   */
  async load(): Promise<StoredSpec | undefined> {
    await this.removeTempFiles();
    const primary = await this.read(this.path);
    if (primary.kind === 'ok') {
      this.primaryGood = true;
      return primary.spec;
    }
    this.primaryGood = false;
    const prev = await this.read(this.prevPath);
    if (primary.kind === 'missing' && prev.kind === 'missing') return undefined;
    const problem = primary.kind === 'bad' ? primary.problem : 'is missing';
    if (prev.kind !== 'ok') {
      const why = prev.kind === 'bad' ? `is damaged too: ${prev.problem}` : 'does not exist';
      throw new RuntimeError(
        'STATE_DAMAGED',
        `stored spec ${this.path} ${problem}, and its last good copy ${this.prevPath} ${why}; restore one of them from a backup, or move them away to start with no spec`,
        { file: this.path },
      );
    }
    const generation = prev.spec.generation + 2;
    if (!Number.isSafeInteger(generation)) {
      throw new RuntimeError('STATE_DAMAGED', `stored spec ${this.path} ${problem}, and the generation of ${this.prevPath} is too large to continue`, { file: this.path });
    }
    let damagedCopy = '';
    if (primary.kind === 'bad') {
      damagedCopy = `${this.path}.${Date.now()}.damaged`;
      await rename(this.path, damagedCopy);
    }
    const recovered: StoredSpec = { ...prev.spec, generation };
    await this.save(recovered);
    this.options.onRecovered?.({ file: this.path, problem, fallback: this.prevPath, damagedCopy, generation });
    return recovered;
  }

  async save(spec: StoredSpec): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    this.primaryGood ??= (await this.read(this.path)).kind === 'ok';
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(JSON.stringify(spec));
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (this.primaryGood) await this.keepAsPrevious();
      await rename(tmp, this.path);
    } catch (err) {
      // A failed save (ENOSPC, EIO) must not leave its temp file behind for ever.
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    this.primaryGood = true;
    const dh = await open(dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }

  async close(): Promise<void> {
    // Nothing held open between calls.
  }

  /** Makes the current (good) `spec.json` the last good copy, atomically. */
  private async keepAsPrevious(): Promise<void> {
    const tmp = `${this.prevPath}.${process.pid}.tmp`;
    await unlink(tmp).catch(() => undefined);
    try {
      await link(this.path, tmp);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
      // A filesystem without hard links: copy, and make the copy durable before it counts.
      await copyFile(this.path, tmp);
      const fh = await open(tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    try {
      await rename(tmp, this.prevPath);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Temp files of earlier saves that never reached their rename (the process died, or the disk
   * was full). Only this master writes here: the data dir lock is taken before the spec loads.
   */
  private async removeTempFiles(): Promise<void> {
    const name = basename(this.path).replace(/\./g, '\\.');
    const temp = new RegExp(`^${name}(\\.prev)?\\.\\d+\\.tmp$`);
    let names: string[];
    try {
      names = await readdir(dirname(this.path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const n of names) if (temp.test(n)) await unlink(join(dirname(this.path), n)).catch(() => undefined);
  }

  private async read(path: string): Promise<ReadResult> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
      throw err;
    }
    const problem = storedSpecProblem(text, this.options.check);
    if (typeof problem === 'string') return { kind: 'bad', problem };
    return { kind: 'ok', spec: problem };
  }
}

/** Bounds what a damaged file can put into an error line. */
function quote(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 60 ? `${s.slice(0, 60)}...` : s;
}

/**
 * The stored spec in `text`, or a phrase saying what is wrong with it (to follow the file name).
 * Everything the master later trusts is checked: the shape, a generation that is a safe
 * non-negative integer (it is sent as a uint64 and compared for equality), leaders as strings,
 * and, with `check`, that the spec itself still compiles.
 */
export function storedSpecProblem(text: string, check?: (specJson: string) => void): StoredSpec | string {
  if (text.trim() === '') return 'is empty';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return `is not valid JSON (${(err as Error).message})`;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return `must hold a JSON object, got ${Array.isArray(parsed) ? 'an array' : quote(parsed)}`;
  }
  const o = parsed as Record<string, unknown>;
  if (typeof o['specJson'] !== 'string') return `has no specJson string (got ${quote(o['specJson'])})`;
  const generation = o['generation'];
  if (typeof generation !== 'number' || !Number.isSafeInteger(generation) || generation < 0) {
    return `has a bad generation: must be a non-negative integer up to 2^53-1, got ${quote(generation)}`;
  }
  const appliedAtMs = o['appliedAtMs'] ?? 0;
  if (typeof appliedAtMs !== 'number' || !Number.isSafeInteger(appliedAtMs) || appliedAtMs < 0) {
    return `has a bad appliedAtMs: must be a non-negative integer, got ${quote(appliedAtMs)}`;
  }
  const leaders = o['leaders'] ?? {};
  if (leaders === null || typeof leaders !== 'object' || Array.isArray(leaders) || Object.values(leaders).some((v) => typeof v !== 'string')) {
    return `has bad leaders: must map cluster names to node ids, got ${quote(leaders)}`;
  }
  const terms = o['terms'] ?? {};
  if (terms === null || typeof terms !== 'object' || Array.isArray(terms) || Object.values(terms).some((v) => typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)) {
    return `has bad terms: must map cluster names to non-negative integers, got ${quote(terms)}`;
  }
  const cordons = o['cordons'] ?? {};
  if (cordons === null || typeof cordons !== 'object' || Array.isArray(cordons) || Object.values(cordons).some((v) => !isStoredCordon(v))) {
    return `has bad cordons: must map agent ids to {reason, sinceMs, drainDeadlineMs?}, got ${quote(cordons)}`;
  }
  const deleted = o['deleted'] ?? false;
  if (typeof deleted !== 'boolean') return `has a bad deleted flag: must be true or false, got ${quote(deleted)}`;
  const good = o['good'];
  if (good !== undefined) {
    const g = good as Record<string, unknown> | null;
    if (g === null || typeof g !== 'object' || typeof g['specJson'] !== 'string' || typeof g['generation'] !== 'number' || !Number.isSafeInteger(g['generation'])) {
      return `has a bad good spec: must be {specJson, generation}, got ${quote(good)}`;
    }
  }
  const specJson = o['specJson'];
  if (specJson !== '' && check !== undefined) {
    try {
      check(specJson);
    } catch (err) {
      const lines = (err as Error).message.split('\n').map((l) => l.trim()).filter((l) => l !== '');
      return `holds a spec that does not compile: ${lines.slice(0, 2).join(' ').slice(0, 300)}`;
    }
  }
  const cordoned = Object.keys(cordons).length > 0 ? { cordons: cordons as Record<string, StoredCordon> } : {};
  return { specJson, generation, appliedAtMs, leaders: leaders as Record<string, string>, terms: terms as Record<string, number>, ...cordoned, deleted, ...(good === undefined ? {} : { good: good as { specJson: string; generation: number } }) };
}

function isStoredCordon(v: unknown): v is StoredCordon {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const c = v as Record<string, unknown>;
  const deadline = c['drainDeadlineMs'];
  if (deadline !== undefined && !(typeof deadline === 'number' && Number.isSafeInteger(deadline) && deadline >= 0)) return false;
  return typeof c['reason'] === 'string' && typeof c['sinceMs'] === 'number' && Number.isSafeInteger(c['sinceMs']) && c['sinceMs'] >= 0;
}
