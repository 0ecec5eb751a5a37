import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { GridEvent } from '../../runtime/events/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** A fresh temp directory; remove it with `rm(dir, { recursive: true })`. */
export function tempDir(prefix = 'events-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A heartbeat-shaped stored event with the given index and timestamp, for driving the log directly. */
export function mkEvent(index: number, timestampUs = 1_700_000_000_000_000 + index, agentId = 'a1'): GridEvent {
  return {
    index,
    timestampUs,
    type: 'AgentHeartbeat',
    severity: 'info',
    agentId,
    nodeId: '',
    cluster: '',
    payload: { nodeCount: index % 7 },
    count: 1,
    lastSeenUs: timestampUs,
  };
}

/** `count` events continuing from `after`. */
export function mkBatch(after: number, count: number): GridEvent[] {
  return Array.from({ length: count }, (_, i) => mkEvent(after + 1 + i));
}

/**
 * A temp directory for a child `node` script that runs the real, built store code
 * (`dist/runtime/events`, which `npm test` builds first): write the script there and import
 * `EVENTS_LIB` from it.
 */
export async function childScriptDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await tempDir('events-child-');
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The built events barrel, as a file URL a child script can import. */
export const EVENTS_LIB = pathToFileURL(join(ROOT, 'dist/runtime/events/index.js')).href;
