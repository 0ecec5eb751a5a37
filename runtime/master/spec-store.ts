import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

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
   * Set by DeleteSpec. The last spec is kept so the reconciler still knows which nodes it owns and
   * stops them, also after a master restart; GetSpec reports no spec.
   */
  readonly deleted?: boolean;
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

/**
 * A single JSON file in the master's data dir, replaced atomically: write a temp file, fsync it,
 * rename over the old one, fsync the directory (so the rename itself survives a power loss).
 */
export class FileSpecStore implements SpecStore {
  readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, 'spec.json');
  }

  async load(): Promise<StoredSpec | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const parsed = JSON.parse(text) as Partial<StoredSpec>;
    return {
      specJson: typeof parsed.specJson === 'string' ? parsed.specJson : '',
      generation: typeof parsed.generation === 'number' ? parsed.generation : 0,
      appliedAtMs: typeof parsed.appliedAtMs === 'number' ? parsed.appliedAtMs : 0,
      leaders: parsed.leaders ?? {},
      deleted: parsed.deleted === true,
    };
  }

  async save(spec: StoredSpec): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${process.pid}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(spec));
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
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
}
