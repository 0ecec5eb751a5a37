import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { WatchSource } from './event-query.js';
import { formatEventMessage, isoMicros, type GridEvent } from './event-types.js';

/** A concept the mirror writes (StorageService's Concept without its timestamps). */
export interface MirrorConcept {
  readonly id: string;
  readonly content: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** An association the mirror writes: `sourceId` -> `targetId` of `type`. */
export interface MirrorAssociation {
  readonly sourceId: string;
  readonly targetId: string;
  readonly type: string;
  readonly confidence: number;
}

/** The two StorageService calls the mirror makes; tests inject fakes, production wraps the gRPC client (storage-mirror-wire.ts). */
export interface MirrorClient {
  learnConcept(concept: MirrorConcept): Promise<unknown>;
  learnAssociation(association: MirrorAssociation): Promise<unknown>;
}

/** Concept id of an event: `event-{type}-{timestampUs}` (timestamps are unique per event). */
export function eventConceptId(e: Pick<GridEvent, 'type' | 'timestampUs'>): string {
  return `event-${e.type}-${e.timestampUs}`;
}
/** Concept id of a point in time: `ts-{timestampUs}`. */
export function timeConceptId(timestampUs: number): string {
  return `ts-${timestampUs}`;
}
/** Concept id of an agent: `agent-{agentId}`. */
export function agentConceptId(agentId: string): string {
  return `agent-${agentId}`;
}
/** Concept id of a storage node: `node-{nodeId}`. */
export function nodeConceptId(nodeId: string): string {
  return `node-${nodeId}`;
}

/** Where the mirror to `address` keeps its cursor: one per target, so a new server starts from scratch. */
export function mirrorCursorPath(eventDir: string, address: string): string {
  return join(eventDir, `mirror-${address.replace(/[^A-Za-z0-9.-]/g, '_')}.cursor`);
}

/** Options of `StorageMirror`. */
export interface StorageMirrorOptions {
  /** File holding the last mirrored index (see `mirrorCursorPath`). */
  readonly cursorPath: string;
  /** Events read per round. @default 256 */
  readonly batchSize?: number;
  /** First retry delay after a failed call; doubles up to `retryMaxMs`, with jitter. @default 200 */
  readonly retryMinMs?: number;
  /** @default 30000 */
  readonly retryMaxMs?: number;
  /** Told about each failed attempt (the master logs it once per outage); must not throw. */
  readonly onError?: (err: unknown) => void;
}

/** Mirror progress for `status`. */
export interface StorageMirrorStats {
  /** Last index written to the storage-server. */
  readonly cursor: number;
  /** Committed events not mirrored yet. */
  readonly lag: number;
  /** Events retention removed before they could be mirrored (server down for longer than retention). */
  readonly skipped: number;
  /** The last failure, or null once calls succeed again. */
  readonly lastError: string | null;
}

/**
 * Mirrors every committed event to a storage-server (`--event-storage ADDR`): a concept
 * `event-{type}-{timestampUs}` whose content is the event's JSON, associations
 * `agent-{id}` -> event and `node-{id}` -> event (type `has_event`), and event -> `ts-{timestampUs}`
 * (type `at_time`).
 *
 * It follows the event log with its own persisted cursor rather than hooking `emit()`, so the grid
 * never waits for the server: while it is down the mirror retries with backoff, and when it
 * returns the mirror catches up from the log with no loss. Writes are idempotent (fixed ids), so
 * re-sending after a crash between a write and the cursor save is harmless.
 */
export class StorageMirror {
  private cursor = 0;
  private skipped = 0;
  private lastError: string | null = null;
  private stopped = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly batchSize: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;

  constructor(
    private readonly source: WatchSource,
    private readonly client: MirrorClient,
    private readonly options: StorageMirrorOptions,
  ) {
    this.batchSize = options.batchSize ?? 256;
    this.retryMinMs = options.retryMinMs ?? 200;
    this.retryMaxMs = options.retryMaxMs ?? 30_000;
  }

  /** Loads the cursor and starts following the log. */
  async start(): Promise<void> {
    if (this.loop !== undefined) return;
    this.cursor = await readCursor(this.options.cursorPath);
    const store = this.source.store;
    // A cursor beyond the log means the event directory was replaced: start over on it.
    if (this.cursor > store.lastIndex) this.cursor = store.firstIndex - 1;
    this.unsubscribe = this.source.onCommit((what) => {
      if (what === 'closed') this.stopped = true;
      this.wake?.();
    });
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    let delay = this.retryMinMs;
    const store = this.source.store;
    while (!this.stopped) {
      if (this.cursor >= store.lastIndex) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      let chunk: GridEvent[];
      try {
        chunk = await store.read(this.cursor + 1, this.batchSize);
      } catch (err) {
        if (this.stopped) break;
        this.fail(err);
        await this.sleep(delay);
        continue;
      }
      const head = chunk[0];
      if (head !== undefined && head.index > this.cursor + 1) {
        this.skipped += head.index - this.cursor - 1;
        this.cursor = head.index - 1;
      }
      const before = this.cursor;
      for (const e of chunk) {
        if (this.stopped) break;
        try {
          await this.mirror(e);
        } catch (err) {
          this.fail(err);
          break;
        }
        this.cursor = e.index;
        this.lastError = null;
        delay = this.retryMinMs;
      }
      if (this.cursor > before) await writeCursor(this.options.cursorPath, this.cursor).catch((err) => this.fail(err));
      if (this.lastError !== null && !this.stopped) {
        await this.sleep(delay);
        delay = Math.min(delay * 2, this.retryMaxMs);
      }
    }
  }

  private fail(err: unknown): void {
    this.lastError = err instanceof Error ? err.message : String(err);
    try {
      this.options.onError?.(err);
    } catch {
      // a logging hook must not stop the mirror
    }
  }

  private async sleep(ms: number): Promise<void> {
    const jittered = ms * (0.8 + Math.random() * 0.4);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, jittered);
      this.wake = () => {
        // A commit does not cut a backoff short; only stop() does.
        if (this.stopped) {
          clearTimeout(t);
          resolve();
        }
      };
    });
    this.wake = undefined;
  }

  private async mirror(e: GridEvent): Promise<void> {
    const id = eventConceptId(e);
    const ts = timeConceptId(e.timestampUs);
    const content = JSON.stringify({ ...e, message: formatEventMessage(e) });
    const attributes: Record<string, string> = { kind: 'event', type: e.type, severity: e.severity, index: String(e.index) };
    if (e.agentId) attributes['agent_id'] = e.agentId;
    if (e.nodeId) attributes['node_id'] = e.nodeId;
    if (e.cluster) attributes['cluster'] = e.cluster;
    const calls: Array<Promise<unknown>> = [
      this.client.learnConcept({ id, content, attributes }),
      this.client.learnConcept({ id: ts, content: isoMicros(e.timestampUs), attributes: { kind: 'time', timestamp_us: String(e.timestampUs) } }),
      this.client.learnAssociation({ sourceId: id, targetId: ts, type: 'at_time', confidence: 1 }),
    ];
    if (e.agentId) {
      const agent = agentConceptId(e.agentId);
      calls.push(this.client.learnConcept({ id: agent, content: e.agentId, attributes: { kind: 'agent' } }));
      calls.push(this.client.learnAssociation({ sourceId: agent, targetId: id, type: 'has_event', confidence: 1 }));
    }
    if (e.nodeId) {
      const node = nodeConceptId(e.nodeId);
      calls.push(this.client.learnConcept({ id: node, content: e.nodeId, attributes: { kind: 'node' } }));
      calls.push(this.client.learnAssociation({ sourceId: node, targetId: id, type: 'has_event', confidence: 1 }));
    }
    await Promise.all(calls);
  }

  /** Progress counters. */
  stats(): StorageMirrorStats {
    return { cursor: this.cursor, lag: Math.max(0, this.source.store.lastIndex - this.cursor), skipped: this.skipped, lastError: this.lastError };
  }

  /** Stops following (the cursor is saved; the next start resumes there). Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.unsubscribe?.();
    await this.loop;
    this.loop = undefined;
  }
}

async function readCursor(path: string): Promise<number> {
  try {
    const n = Number((await readFile(path, 'utf8')).trim());
    return Number.isSafeInteger(n) && n >= 0 ? n : 0;
  } catch {
    return 0;
  }
}

async function writeCursor(path: string, cursor: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  await writeFile(tmp, String(cursor));
  await rename(tmp, path);
}
