/**
 * The CLI's light client verbs and its spec verbs run from CommonJS bundles through V8's code cache
 * (runtime/cli/client-main.ts and spec-main.ts, built by scripts/bundle.mjs, caches by
 * scripts/cli-code-cache.mjs); bin/sutra-grid.js sends them there and every other call to the full
 * CLI. What a call prints and its exit code must not depend on which build ran it, and a cache that
 * is missing or damaged only costs speed. Needs `npm run build` (with the caches) and loopback.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI_CLIENT_BODY, CLI_CLIENT_CACHE, CLI_CLIENT_ENTRY, CLI_SPEC_BODY, CLI_SPEC_CACHE } from '../../runtime/cli/client-bundle-files.js';
import { CLIENT_VERBS, SPEC_VERBS } from '../../runtime/cli/verbs.js';
import { BUNDLE_DIR as BUNDLE, builtCacheAccepted } from '../helpers/code-cache.js';
import { CLI, REPO_ROOT, childEnv, cleanup, startDaemon, startMaster, tempDir } from '../helpers/processes.js';

afterEach(cleanup);

/** The full CLI, as bin/sutra-grid.js runs it for a verb that is not a client verb. */
const FULL_CLI = join(BUNDLE, 'cli.js');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node <node args> <script> <args>` to completion. */
function run(script: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; node?: readonly string[] } = {}): Run {
  const r = spawnSync(process.execPath, [...(opts.node ?? []), script, ...args], { cwd: REPO_ROOT, env: childEnv(opts.env), encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `run` with timestamps (grpc-js puts the time of a failed connect in its message) made comparable. */
function runComparable(script: string, args: readonly string[], env?: NodeJS.ProcessEnv): Run {
  const r = run(script, args, { env });
  const stamp = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z/g;
  return { ...r, stdout: r.stdout.replace(stamp, '<time>'), stderr: r.stderr.replace(stamp, '<time>') };
}

/**
 * A preload that reports, as the process exits, which bundle's body was compiled to run: `client`,
 * `spec` or `none` (every call but `agent` and `storage-server` loads the bundles' entry, which
 * tells which calls are theirs).
 */
function loadProbe(): string {
  const file = join(tempDir('cli-code-cache-'), 'probe.cjs');
  writeFileSync(
    file,
    [
      `const vm = require('node:vm');`,
      `let body = 'none';`,
      `vm.Script = class extends vm.Script {`,
      `  constructor(code, opts) {`,
      `    super(code, opts);`,
      `    if (String(opts?.filename).endsWith(${JSON.stringify(`/${CLI_CLIENT_BODY}`)})) body = 'client';`,
      `    if (String(opts?.filename).endsWith(${JSON.stringify(`/${CLI_SPEC_BODY}`)})) body = 'spec';`,
      `  }`,
      `};`,
      `process.on('exit', () => require('node:fs').writeSync(2, '\\nbundle body: ' + body + '\\n'));`,
      '',
    ].join('\n'),
  );
  return file;
}

/**
 * The bundles' entry and the body `body` in a fresh dir, with `cache` as its cache file named
 * `cacheName` (none when undefined), and a script that runs a call through that entry as
 * bin/sutra-grid.js does.
 */
function bundleCopy(body: string, cacheName: string, cache: Buffer | undefined): string {
  const dir = tempDir('cli-code-cache-');
  copyFileSync(join(BUNDLE, CLI_CLIENT_ENTRY), join(dir, CLI_CLIENT_ENTRY));
  copyFileSync(join(BUNDLE, body), join(dir, body));
  if (cache !== undefined) writeFileSync(join(dir, cacheName), cache);
  const script = join(dir, 'run.cjs');
  writeFileSync(script, `if (!require(${JSON.stringify(join(dir, CLI_CLIENT_ENTRY))}).runClientCall(process.argv)) process.exit(99);\n`);
  return script;
}

/** `cache` damaged in the ways a cache can be: a byte flipped in V8's data, cut short, empty, missing. */
function damagedCaches(cache: Buffer): Array<Buffer | undefined> {
  const flipped = Buffer.from(cache);
  // A byte in V8's data (after the digest): V8 would abort on it, the digest keeps it away.
  const at = Math.floor(flipped.length / 2);
  flipped.writeUInt8(flipped.readUInt8(at) ^ 0xff, at);
  return [flipped, cache.subarray(0, cache.length / 3), Buffer.alloc(0), undefined];
}

/** The example every spec call here reads. */
const SPEC = join(REPO_ROOT, 'examples', 'local', 'grid.yaml');

describe('CLI client bundle', () => {
  it('the caches the build wrote are accepted by a fresh process', () => {
    expect(builtCacheAccepted(CLI_CLIENT_BODY, CLI_CLIENT_CACHE)).toEqual({ accepted: true, stderr: '' });
    expect(builtCacheAccepted(CLI_SPEC_BODY, CLI_SPEC_CACHE)).toEqual({ accepted: true, stderr: '' });
  });

  it('bin sends the client verbs to the client bundle, the spec verbs to the spec bundle and every other call to the full CLI', () => {
    const probe = loadProbe();
    const via = (args: readonly string[]): string | undefined => /bundle body: (\w+)/.exec(run(CLI, args, { node: ['-r', probe] }).stderr)?.[1];
    // Unreachable master: each call ends quickly with an error, on whichever path it took.
    const master = ['--master', '127.0.0.1:1'];
    for (const verb of CLIENT_VERBS) expect(via([...master, verb]), verb).toBe('client');
    expect(via(['--json', '--token-file', '/nonexistent', 'status'])).toBe('client');
    expect(via(['status', '--help'])).toBe('client');
    for (const verb of SPEC_VERBS) expect(via([...master, verb, '/nonexistent.yaml']), verb).toBe('spec');
    expect(via(['--json', 'validate', SPEC])).toBe('spec');
    for (const args of [['up', '--help'], ['--help'], ['nonsense'], [], ['--master', 'validate'], ['token', '--help']]) {
      expect(via(args), args.join(' ')).toBe('none');
    }
  });

  it('help lists every verb, client verbs among them, in the same order as before', () => {
    const verbs = (text: string): string[] => [...text.split('Commands:')[1]!.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]!);
    const expected = ['master', 'agent', 'storage-server', 'status', 'list-agents', 'list-nodes', 'cordon', 'uncordon', 'drain', 'spawn', 'stop', 'node-status', 'promote', 'restart', 'validate', 'plan', 'apply', 'up', 'events', 'token', 'cert', 'join', 'help'];
    const help = run(CLI, ['--help']);
    expect(help.code).toBe(0);
    expect(verbs(help.stdout)).toEqual(expected);
    const unknown = run(CLI, ['nonsense']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe("error: unknown command 'nonsense'\n");
  });

  describe('against a master', () => {
    it('a client verb prints what the full CLI prints, with the same exit code', async () => {
      const master = await startMaster();
      const calls: Array<{ args: string[]; env?: NodeJS.ProcessEnv }> = [
        { args: ['--master', master.address, 'status'] },
        { args: ['--master', master.address, '--json', 'status'] },
        { args: ['status', '--master', master.address, '--json'] },
        { args: ['status'], env: { SUTRA_GRID_MASTER: master.address } },
        { args: ['--master', master.address, 'list-agents'] },
        { args: ['--master', master.address, 'list-nodes', '--json'] },
        { args: ['--master', master.address, 'node-status', 'nope'] },
        { args: ['--master', master.address, 'status', '--bogus'] },
        { args: ['status', '--help'] },
        { args: ['--master', '127.0.0.1:1', 'status'] },
        { args: ['--master', master.address, '--token-file', '/nonexistent', 'status'] },
      ];
      for (const { args, env } of calls) {
        expect(runComparable(CLI, args, env), args.join(' ')).toEqual(runComparable(FULL_CLI, args, env));
      }
      // Not all of them fail: the comparison covers output, not only errors.
      const status = run(CLI, ['--master', master.address, '--json', 'status']);
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ agents: { total: 0 }, nodes: { total: 0 } });
    });

    it('with mutual TLS too: the credential flags and $SUTRA_GRID_TLS_DIR work as in the full CLI', async () => {
      const dataDir = tempDir('cli-code-cache-master-');
      const adminDir = tempDir('cli-code-cache-admin-');
      const issued = run(CLI, ['cert', 'issue', '--data-dir', dataDir, '--role', 'admin', '--name', 'ops', '--out', adminDir]);
      expect(issued.code, issued.stderr).toBe(0);
      const master = await startDaemon('master', ['master', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--tls', 'on'], { timeoutMs: 90_000 });
      const calls: Array<{ args: string[]; env?: NodeJS.ProcessEnv }> = [
        { args: ['--master', master.address, 'status', '--tls-dir', adminDir] },
        { args: ['--master', master.address, 'list-agents', '--json'], env: { SUTRA_GRID_TLS_DIR: adminDir } },
        { args: ['--master', master.address, 'status', '--tls-ca', join(adminDir, 'ca.pem'), '--tls-cert', join(adminDir, 'cert.pem'), '--tls-key', join(adminDir, 'key.pem')] },
        // Refused: no client certificate, or none of the files.
        { args: ['--master', master.address, 'status'] },
        { args: ['--master', master.address, 'status', '--tls-dir', join(adminDir, 'nonexistent')] },
      ];
      for (const { args, env } of calls) {
        expect(runComparable(CLI, args, env), args.join(' ')).toEqual(runComparable(FULL_CLI, args, env));
      }
      expect(run(CLI, calls[0]!.args)).toMatchObject({ code: 0, stdout: expect.stringMatching(/^health\s/) as unknown });
    });

    it('a spec verb prints what the full CLI prints, with the same exit code', async () => {
      const master = await startMaster();
      const broken = join(tempDir('cli-code-cache-spec-'), 'grid.yaml');
      writeFileSync(broken, 'name: Not_A_Name\nagents: 3\n');
      const calls: string[][] = [
        ['validate', SPEC],
        ['--json', 'validate', SPEC],
        ['validate', broken],
        ['validate', '--json', broken],
        ['validate', '/nonexistent.yaml'],
        ['validate'],
        ['--master', master.address, 'plan', SPEC],
        ['--master', master.address, '--json', 'plan', SPEC],
        ['--master', master.address, 'plan', broken],
        ['--master', '127.0.0.1:1', 'plan', SPEC],
        ['--master', master.address, 'apply', '/nonexistent.yaml'],
        ['apply', '--help'],
      ];
      for (const args of calls) {
        expect(runComparable(CLI, args), args.join(' ')).toEqual(runComparable(FULL_CLI, args));
      }
      // Not all of them fail: the comparison covers output, not only errors.
      expect(run(CLI, ['validate', SPEC])).toMatchObject({ code: 0, stdout: expect.stringContaining(': valid (grid local') as unknown });
      expect(run(CLI, ['validate', broken]).code).toBe(1);
      // Exit code 2: the plan has changes (an empty master, whose lack of agents it reports too).
      const plan = run(CLI, ['--master', master.address, '--json', 'plan', SPEC]);
      expect(plan.code, plan.stderr).toBe(2);
      expect(JSON.parse(plan.stdout)).toBeTypeOf('object');
    });

    it('a damaged or missing cache only costs speed: the call prints the same', async () => {
      const master = await startMaster();
      const args = ['--master', master.address, 'status'];
      const expected = run(CLI, args);
      expect(expected.code).toBe(0);
      expect(expected.stdout).toMatch(/^health\s/);
      for (const damaged of damagedCaches(readFileSync(join(BUNDLE, CLI_CLIENT_CACHE)))) {
        expect(run(bundleCopy(CLI_CLIENT_BODY, CLI_CLIENT_CACHE, damaged), args)).toEqual(expected);
      }
      const validate = run(CLI, ['validate', SPEC]);
      expect(validate.code).toBe(0);
      for (const damaged of damagedCaches(readFileSync(join(BUNDLE, CLI_SPEC_CACHE)))) {
        expect(run(bundleCopy(CLI_SPEC_BODY, CLI_SPEC_CACHE, damaged), ['validate', SPEC])).toEqual(validate);
      }
    });
  });
});
