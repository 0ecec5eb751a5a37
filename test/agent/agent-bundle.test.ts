/**
 * `sutra-grid agent` runs the agent's own bundle (runtime/agent/bundle-main.ts), one CommonJS file
 * through V8's code cache, without the CLI (issue 17: an idle agent's RSS). These check the build:
 * bin/sutra-grid.js routes the verb there, the cache the build wrote is accepted by a fresh process,
 * the body carries neither commander nor node-forge (which it loads from its own bundle, on
 * first use, when the agent has TLS), and the entry loads every Node built-in the body requires
 * before it changes V8's flags (runtime/agent/agent-v8.ts), leaving the unused ones unloaded.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AGENT_BUILTINS } from '../../runtime/agent/agent-v8.js';
import { AGENT_BUNDLE_BODY, AGENT_BUNDLE_CACHE, AGENT_BUNDLE_ENTRY, AGENT_BUNDLE_FORGE } from '../../runtime/agent/bundle-files.js';
import { BUNDLE_DIR as BUNDLE, builtCacheAccepted } from '../helpers/code-cache.js';
import { CLI } from '../helpers/processes.js';

describe('the agent bundle', () => {
  it('is what `sutra-grid agent` runs: the CLI is not loaded', () => {
    // A refused flag exits before any server starts. Node's CommonJS loader logs every file it
    // loads (NODE_DEBUG=module), its ES module loader every module (NODE_DEBUG=esm).
    const env = { ...process.env, NODE_DEBUG: 'module,esm' };
    const r = spawnSync(process.execPath, [CLI, 'agent', '--bogus'], { encoding: 'utf8', env });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("error: unknown option '--bogus'");
    const loaded = [...r.stderr.matchAll(/MODULE \d+: load "([^"]+)"/g)].map((m) => m[1]);
    expect(loaded.filter((f) => f!.startsWith(BUNDLE))).toEqual([join(BUNDLE, AGENT_BUNDLE_ENTRY)]);
    // The body runs through the code cache (vm.Script), not the loader: no ES module at all.
    expect(r.stderr).not.toMatch(/ESM \d+: Storing/);
    // The same flag for the CLI's verbs goes through the CLI (the contrast that makes the check above mean something).
    const help = spawnSync(process.execPath, [CLI, 'agent', '--help'], { encoding: 'utf8', env });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--heartbeat-interval <duration>');
    expect(help.stderr).toContain(pathToFileURL(join(BUNDLE, 'cli.js')).href);
  });

  it('runs through the code cache the build wrote, accepted by a fresh process', () => {
    expect(builtCacheAccepted(AGENT_BUNDLE_BODY, AGENT_BUNDLE_CACHE)).toEqual({ accepted: true, stderr: '' });
  });

  it('carries neither commander nor node-forge, and finds forge in its own bundle beside it', () => {
    const body = readFileSync(join(BUNDLE, AGENT_BUNDLE_BODY), 'utf8');
    expect(body).not.toMatch(/node_modules\/commander\//);
    expect(body).not.toMatch(/node_modules\/node-forge\//);
    expect(body).toContain(`require("./${AGENT_BUNDLE_FORGE}")`);
    const forge = join(BUNDLE, AGENT_BUNDLE_FORGE);
    expect(existsSync(forge)).toBe(true);
    const r = spawnSync(process.execPath, ['-e', `const f = require(${JSON.stringify(forge)}); process.stdout.write(typeof f.pki.certificationRequestFromPem)`], { encoding: 'utf8' });
    expect(r.stdout).toBe('function');
  });

  it("answers gRPC calls without http2's date header, as the storage-server does (test/storage/bundle-responses.test.ts)", () => {
    // The build's four edits of grpc-js's responses (scripts/bundle.mjs, GRPC_JS_EDITS).
    const body = readFileSync(join(BUNDLE, AGENT_BUNDLE_BODY), 'utf8');
    expect(body.match(/sendDate:!1/g)).toHaveLength(4);
  });

  it('loads each Node built-in its body requires before the V8 flags change, and zlib, worker_threads, perf_hooks only if used', () => {
    const body = readFileSync(join(BUNDLE, AGENT_BUNDLE_BODY), 'utf8');
    const required = new Set([...body.matchAll(/require\("(?:node:)?([a-z_0-9/]+)"\)/g)].map((m) => m[1]!));
    // Left to their first use (scripts/bundle.mjs): each is required once, inside its lazy module.
    const lazy = ['zlib', 'worker_threads'];
    for (const id of lazy) expect(body.match(new RegExp(`require\\("(node:)?${id}"\\)`, 'g'))).toHaveLength(1);
    expect(required.has('perf_hooks')).toBe(false);
    // Packages the body loads from node_modules: on the docker platform, and for the data dir lock
    // where no flock(1) is installed (runtime/common/file-lock.ts).
    const packages = ['dockerode', 'fs-ext'];
    const builtins = [...required].filter((id) => !lazy.includes(id) && !packages.includes(id));
    // A built-in missing from the list still works, but compiles from source: Node's own code cache
    // is refused under the changed flags.
    expect(builtins.filter((id) => !AGENT_BUILTINS.includes(id))).toEqual([]);
  });

  it('a started agent has loaded no Node built-in after its V8 flags changed, the small heap flag among them', async () => {
    const probe = join(mkdtempSync(join(tmpdir(), 'agent-v8-')), 'probe.cjs');
    // Records the modules Node had loaded when the flags changed, and again once the agent serves.
    writeFileSync(
      probe,
      `const v8 = require('node:v8'); const set = v8.setFlagsFromString; let at; let flags;
       v8.setFlagsFromString = (f) => { at = process.moduleLoadList.length; flags = f; set(f); };
       process.on('SIGUSR2', () => { process.stderr.write('\\nFLAGS ' + flags + '\\nLOADED-AFTER ' + JSON.stringify(process.moduleLoadList.slice(at).filter((m) => m.startsWith('NativeModule '))) + '\\n'); process.exit(0); });`,
    );
    const dataDir = dirname(probe);
    const child = spawn(process.execPath, [CLI, 'agent', '--id', 'v8', '--master', '127.0.0.1:1', '--listen', '127.0.0.1:0', '--data-dir', join(dataDir, 'agent')], {
      env: { ...process.env, NODE_OPTIONS: `--require ${probe}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      await new Promise<void>((resolve, reject) => {
        const t = setInterval(() => out.includes('agent v8 listening on') && (clearInterval(t), resolve()), 10);
        child.once('exit', (code) => (clearInterval(t), reject(new Error(`agent exited ${code}: ${err}`))));
      });
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGUSR2');
      await exited;
      expect(/LOADED-AFTER (.*)/.exec(err)?.[1]).toBe('[]');
      // What was set: the agent's flags, the small heap's among them (runtime/agent/agent-v8.ts).
      expect(/FLAGS (.*)/.exec(err)?.[1]?.split(' ')).toContain('--optimize-for-size');
    } finally {
      child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
