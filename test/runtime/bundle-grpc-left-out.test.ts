/**
 * The bundles leave out the grpc-js modules they never run (scripts/grpc-js-left-out.mjs): every
 * bundle the load balancers and certificate providers only a service config or grpc-js's
 * experimental API selects, the client verbs' bundle also the server side. A stub keeps the
 * `setup()` grpc-js's index calls at load and throws, naming the module, on any other use. The
 * plugin is checked on a small bundle of its own (what a stub does), the built bundles for what
 * they carry; that each bundle still works is what its own tests check.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import { AGENT_BUNDLE_BODY } from '../../runtime/agent/bundle-files.js';
import { CLI_CLIENT_BODY } from '../../runtime/cli/client-bundle-files.js';
import { STORAGE_BUNDLE_BODY } from '../../runtime/storage/bundle-files.js';
// @ts-expect-error: a build script, plain JavaScript without types
import { GRPC_JS_NEVER_RUN, GRPC_JS_SERVER, grpcJsLeftOut } from '../../scripts/grpc-js-left-out.mjs';
import { BUNDLE_DIR } from '../helpers/code-cache.js';
import { REPO_ROOT, cleanup, tempDir } from '../helpers/processes.js';

afterEach(cleanup);

/** Bundles `source` (CommonJS) with the plugin leaving out `modules`, runs it, and returns its stdout parsed. */
async function runBundled(source: string, modules: readonly string[]): Promise<unknown> {
  const dir = tempDir('grpc-left-out-');
  writeFileSync(join(dir, 'entry.cjs'), source);
  await build({
    entryPoints: [join(dir, 'entry.cjs')],
    outfile: join(dir, 'out.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    nodePaths: [join(REPO_ROOT, 'node_modules')],
    logLevel: 'silent',
    plugins: [(grpcJsLeftOut as (m: readonly string[]) => never)(modules)],
  });
  const r = spawnSync(process.execPath, [join(dir, 'out.cjs')], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as unknown;
}

describe('grpc-js modules left out of a bundle', () => {
  it('load as stubs: grpc-js starts and its channels work, and a use of a stub throws naming it', async () => {
    const source = `
      const grpc = require('@grpc/grpc-js');
      const thrown = (f) => { try { f(); return 'no error'; } catch (e) { return e.message; } };
      const channel = new grpc.Channel('127.0.0.1:1', grpc.credentials.createInsecure(), {});
      const out = {
        state: channel.getConnectivityState(false),
        server: thrown(() => new grpc.Server()),
        provider: thrown(() => new grpc.experimental.FileWatcherCertificateProvider({ refreshIntervalMs: 1000 })),
      };
      channel.close();
      process.stdout.write(JSON.stringify(out));
    `;
    const out = await runBundled(source, [...(GRPC_JS_NEVER_RUN as string[]), ...(GRPC_JS_SERVER as string[])]);
    expect(out).toEqual({
      state: 0, // IDLE: a channel was made through the client modules, which stay
      server: 'grpc-js server.js is left out of this bundle (scripts/bundle.mjs), yet its Server was used',
      provider: 'grpc-js certificate-provider.js is left out of this bundle (scripts/bundle.mjs), yet its FileWatcherCertificateProvider was used',
    });
  });

  it('the contrast: without the plugin the same bundle builds a server', async () => {
    const out = await runBundled(`const grpc = require('@grpc/grpc-js'); process.stdout.write(JSON.stringify(typeof new grpc.Server().bindAsync));`, []);
    expect(out).toBe('function');
  });

  it('the built bundles carry none of the load balancers they leave out, and the client verbs no server', () => {
    // String literals survive minifying: each balancer's registered name, the server's method name.
    const body = (name: string): string => readFileSync(join(BUNDLE_DIR, name), 'utf8');
    for (const name of [AGENT_BUNDLE_BODY, STORAGE_BUNDLE_BODY, CLI_CLIENT_BODY]) {
      const text = body(name);
      for (const policy of ['"round_robin"', '"weighted_round_robin"', '"outlier_detection"']) expect(text, `${name} ${policy}`).not.toContain(policy);
      expect(text, name).toContain('is left out of this bundle');
    }
    expect(body(AGENT_BUNDLE_BODY)).toContain('bindAsync');
    expect(body(STORAGE_BUNDLE_BODY)).toContain('bindAsync');
    expect(body(CLI_CLIENT_BODY)).not.toContain('bindAsync');
  });
});
