import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
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
 * Transpiles runtime/events (without the proto/gRPC parts) to plain ESM in a temp directory, so a
 * child `node` process can run the real store code without a build step. node_modules is linked in
 * for @grpc/grpc-js (imported by errors.ts).
 */
export async function transpileEventsLib(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await tempDir('events-lib-');
  const src = join(ROOT, 'runtime/events');
  const out = join(dir, 'events');
  await mkdir(out);
  for (const name of await readdir(src)) {
    if (!name.endsWith('.ts')) continue;
    const { outputText } = ts.transpileModule(await readFile(join(src, name), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    await writeFile(join(out, name.replace(/\.ts$/, '.js')), outputText);
  }
  // The one module outside runtime/events it imports: the data dir lock.
  await mkdir(join(dir, 'common'));
  const lock = ts.transpileModule(await readFile(join(ROOT, 'runtime/common/file-lock.ts'), 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  await writeFile(join(dir, 'common', 'file-lock.js'), lock.outputText);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
