/**
 * `sutra-grid agent` runs the agent's own bundle (runtime/agent/bundle-main.ts), one CommonJS file
 * through V8's code cache, without the CLI (issue 17: an idle agent's RSS). These check the build:
 * bin/sutra-grid.js routes the verb there, the cache the build wrote is accepted by a fresh process,
 * and the body carries neither commander nor node-forge (which it loads from its own bundle, on
 * first use, when the agent has TLS).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
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
});
