/**
 * The storage-server bundle runs through V8's code cache (runtime/common/code-cache.ts). Each case
 * runs in a fresh `node` process: V8 accepts a cache only in a process that has not compiled the
 * same source already, and data V8 would fail on aborts the whole process.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { STORAGE_BUNDLE_BODY, STORAGE_BUNDLE_CACHE, STORAGE_BUNDLE_ENTRY } from '../../runtime/storage/bundle-files.js';
import { BUNDLE_DIR as BUNDLE, CODE_CACHE_MODULE as CODE_CACHE, builtCacheAccepted } from '../helpers/code-cache.js';
import { REPO_ROOT, cleanup, tempDir } from '../helpers/processes.js';

afterEach(cleanup);

/** Compiles `file` with the cache file `cache` (if any) and runs it in a fresh process; prints JSON {accepted, ran}. */
function compileAndRun(file: string, cache?: string): { accepted: boolean; ran: unknown; status: number | null; stderr: string } {
  const script = `
    import { readFileSync } from 'node:fs';
    import { compileBundle } from ${JSON.stringify(CODE_CACHE)};
    const cache = ${cache === undefined ? 'undefined' : `readFileSync(${JSON.stringify(cache)})`};
    const b = compileBundle(${JSON.stringify(file)}, cache);
    b.run();
    process.stdout.write(JSON.stringify({ accepted: b.cacheAccepted, ran: globalThis.ran ?? null }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const out = r.status === 0 ? (JSON.parse(r.stdout) as { accepted: boolean; ran: unknown }) : { accepted: false, ran: null };
  return { ...out, status: r.status, stderr: r.stderr };
}

/** A cache file for `file`, made by a process that compiled and ran it. */
function makeCache(file: string, cache: string): void {
  const script = `
    import { writeFileSync } from 'node:fs';
    import { compileBundle } from ${JSON.stringify(CODE_CACHE)};
    const b = compileBundle(${JSON.stringify(file)});
    b.run();
    writeFileSync(${JSON.stringify(cache)}, b.createCache());
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}

/** A CommonJS file whose functions set globalThis.ran; `tag` is one character, so every variant has the same length. */
function writeModule(file: string, tag: string): void {
  writeFileSync(file, `#!/usr/bin/env node\nfunction mark(v) { return 'ran-' + v; }\nglobalThis.ran = mark('${tag}') + ':' + typeof require + ':' + (module.exports === exports);\n`);
}

describe('storage-server code cache', () => {
  it('agents spawn the bundle entry, and the cache the build wrote is accepted by a fresh process', async () => {
    // The built entry.ts (the source's would look for a bundle beside runtime/, not dist/runtime/).
    const { storageServerEntry } = (await import(join(REPO_ROOT, 'dist', 'runtime', 'storage', 'entry.js'))) as { storageServerEntry(): string };
    expect(storageServerEntry()).toBe(join(BUNDLE, STORAGE_BUNDLE_ENTRY));
    expect(builtCacheAccepted(STORAGE_BUNDLE_BODY, STORAGE_BUNDLE_CACHE)).toEqual({ accepted: true, stderr: '' });
  });

  it('runs a hashbang CommonJS file as Node would, with and without its cache', () => {
    const dir = tempDir('code-cache-');
    const file = join(dir, 'a.cjs');
    writeModule(file, 'a');
    expect(compileAndRun(file)).toMatchObject({ status: 0, accepted: false, ran: 'ran-a:function:true' });
    makeCache(file, join(dir, 'a.cache'));
    expect(compileAndRun(file, join(dir, 'a.cache'))).toMatchObject({ status: 0, accepted: true, ran: 'ran-a:function:true' });
  });

  it('never uses the cache of another source of the same length: the new source runs', () => {
    const dir = tempDir('code-cache-');
    const file = join(dir, 'a.cjs');
    writeModule(file, 'a');
    makeCache(file, join(dir, 'a.cache'));
    writeModule(file, 'b');
    expect(compileAndRun(file, join(dir, 'a.cache'))).toMatchObject({ status: 0, accepted: false, ran: 'ran-b:function:true' });
  });

  it('never hands corrupted or truncated data to V8 (which would abort the process): it compiles instead', () => {
    const dir = tempDir('code-cache-');
    const file = join(dir, 'a.cjs');
    writeModule(file, 'a');
    makeCache(file, join(dir, 'a.cache'));
    const good = readFileSync(join(dir, 'a.cache'));
    const flipped = Buffer.from(good);
    flipped[flipped.length - 8]! ^= 0x55;
    writeFileSync(join(dir, 'flipped.cache'), flipped);
    writeFileSync(join(dir, 'truncated.cache'), good.subarray(0, good.length - 16));
    writeFileSync(join(dir, 'empty.cache'), Buffer.alloc(0));
    for (const bad of ['flipped.cache', 'truncated.cache', 'empty.cache']) {
      expect(compileAndRun(file, join(dir, bad)), bad).toMatchObject({ status: 0, accepted: false, ran: 'ran-a:function:true' });
    }
  });

  it('a storage-server entry beside a missing cache still serves', () => {
    const dir = tempDir('code-cache-');
    for (const f of [STORAGE_BUNDLE_ENTRY, STORAGE_BUNDLE_BODY]) copyFileSync(join(BUNDLE, f), join(dir, f));
    const r = spawnSync(process.execPath, [join(dir, STORAGE_BUNDLE_ENTRY), '--port', 'x', '--storage-path', join(dir, 'node')], { encoding: 'utf8' });
    // Bad input is refused by the server's own flag parser: the body ran without a cache.
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('--port');
  });
});
