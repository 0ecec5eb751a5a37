/**
 * What a fresh storage-server loads of Node before it serves: zlib (grpc-js' compression, the
 * log's crc32) and perf_hooks (the write lease's clock) only once something uses them, so a node
 * with an empty log and no lease starts without them (issue 17).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { STORAGE_BUNDLE_ENTRY } from '../../runtime/storage/bundle-files.js';
import { REPO_ROOT, cleanup, tempDir, trackPid } from '../helpers/processes.js';

afterEach(cleanup);

/** Preloaded into the node: prints the Node modules it loaded, as it exits. */
const REPORT = `process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(process.moduleLoadList) + '\\n'));`;

/** Starts the bundled storage-server on an empty data dir, stops it once it listens; the modules it had loaded. */
async function loadedAtStart(): Promise<string[]> {
  const entry = join(REPO_ROOT, 'dist', 'runtime', 'bundle', STORAGE_BUNDLE_ENTRY);
  const dir = tempDir();
  writeFileSync(join(dir, 'report.cjs'), REPORT);
  const child = spawn(process.execPath, ['--require', join(dir, 'report.cjs'), entry, '--port', '0', '--storage-path', join(dir, 'node')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackPid(child.pid!);
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => c.toString().includes('listening on') && resolve());
    child.once('exit', (code) => reject(new Error(`storage-server exited ${code} before listening: ${err}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  const m = /LOADED (.*)/.exec(err);
  expect(m, err).not.toBeNull();
  return JSON.parse(m![1]!) as string[];
}

describe('storage-server start', () => {
  it('serves an empty log without loading zlib or perf_hooks', async () => {
    const loaded = await loadedAtStart();
    expect(loaded).toContain('NativeModule http2');
    expect(loaded).not.toContain('NativeModule zlib');
    expect(loaded).not.toContain('NativeModule perf_hooks');
  });
});
