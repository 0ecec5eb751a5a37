/**
 * What the stack's containers assume of a real `sutra-grid master`, run as synthesized against one
 * started with a token and mutual TLS from the operator's CA, as the stack starts it (the image's `node /app/bin/sutra-grid.js` prefix dropped, and the
 * in-container addresses and file paths mapped to the test's):
 * - the master's Docker health check, which `terraform apply` waits on (`wait = true`), passes
 *   against a serving master and fails with a wrong token or no master;
 * - the apply container's command applies the spec.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GridDockerStack } from '../../provider/cdktf/index.js';
import { createCa } from '../../runtime/common/pki/certs.js';
import { withMaster } from '../../client/index.js';
import { cleanup, runCli, startMaster, tempDir, type DaemonProcess } from '../helpers/processes.js';

const TOKEN = 'docker-contract-token-0123456789';
const CLI_PREFIX = ['node', '/app/bin/sutra-grid.js'];
let master: DaemonProcess;
let dir: string;
let tokenFile: string;
let containers: Record<string, any>;
let caFile: string;

beforeAll(async () => {
  dir = tempDir('docker-contract-');
  tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const specFile = join(dir, 'grid.yaml');
  // No clusters: the apply converges at once, without agents.
  writeFileSync(specFile, 'name: contract\nagents:\n  - id: docker-1\n    platform: docker\n    capacity: { nodes: 2 }\n');
  const ca = createCa('cdktf contract CA');
  caFile = join(dir, 'ca.pem');
  const caKeyFile = join(dir, 'ca-key.pem');
  writeFileSync(caFile, ca.certPem, { mode: 0o600 });
  writeFileSync(caKeyFile, ca.keyPem, { mode: 0o600 });
  containers = JSON.parse(Testing.synth(new GridDockerStack(Testing.app(), 'grid', { specPath: specFile, caCertPath: caFile }))).resource.docker_container;
  // The master container's own flags after --listen/--data-dir, with the uploaded files mapped.
  const command = containers['master'].command as string[];
  const flags = mapped(command.slice(command.indexOf('--token-file')), {
    '/run/secrets/sutra-grid/token': tokenFile,
    '/run/secrets/sutra-grid/ca.pem': caFile,
    '/run/secrets/sutra-grid/ca-key.pem': caKeyFile,
  });
  expect(flags).toEqual(['--token-file', tokenFile, '--tls', 'on', '--tls-ca-cert', caFile, '--tls-ca-key', caKeyFile]);
  master = await startMaster({ args: flags });
});
afterAll(cleanup);

/** Maps in-container values to the test's: master address, token file, uploaded spec file. */
function mapped(args: readonly string[], replacements: Record<string, string>): string[] {
  return args.map((a) => replacements[a] ?? a);
}

describe('master container', () => {
  it('health check passes against a serving master, fails with a wrong token', async () => {
    const test = containers['master'].healthcheck.test as string[];
    expect(test.slice(0, 3)).toEqual(['CMD', ...CLI_PREFIX]);
    const wrongFile = join(dir, 'wrong');
    writeFileSync(wrongFile, 'not-the-token-0123456789\n', { mode: 0o600 });
    const check = (file: string): string[] =>
      mapped(test.slice(3), { '127.0.0.1:7000': master.address, '/run/secrets/sutra-grid/token': file, '/run/secrets/sutra-grid/ca.pem': caFile });
    expect(check(tokenFile)).toContain(master.address);

    const ok = await runCli(check(tokenFile));
    expect(ok.code, ok.stderr).toBe(0);
    expect((await runCli(check(wrongFile))).code).not.toBe(0);
  });
});

describe('apply container', () => {
  it('applies the spec it uploads', async () => {
    const apply = containers['apply'];
    const spec = (apply.upload as { file: string; content: string }[]).find((u) => u.file === '/etc/sutra/grid.yaml')!;
    const uploadedSpec = join(dir, 'uploaded.yaml');
    writeFileSync(uploadedSpec, spec.content);
    const args = mapped(apply.command, {
      'sutra-grid-contract-master:7000': master.address,
      '/etc/sutra/grid.yaml': uploadedSpec,
      '/run/secrets/sutra-grid/token': tokenFile,
      '/run/secrets/sutra-grid/ca.pem': caFile,
    });
    expect(args).toContain(master.address);
    expect(args).toContain('--tls-ca');
    // The CA it checks the master with is the one uploaded.
    expect((apply.upload as { file: string; content: string }[]).map((u) => u.file)).toContain('/run/secrets/sutra-grid/ca.pem');
    const result = await runCli(args);
    expect(result.code, result.stderr).toBe(0);
    const stored = await withMaster({ address: master.address, token: TOKEN, tls: { caPem: readFileSync(caFile, 'utf8') } }, (m) => m.getSpec());
    expect(stored.generation).toBe(1);
    expect(JSON.parse(stored.specJson)).toMatchObject({ name: 'contract' });
  });

  it('health check fails once the master is gone', async () => {
    await master.stop();
    const test = containers['master'].healthcheck.test as string[];
    const args = mapped(test.slice(3), { '127.0.0.1:7000': master.address, '/run/secrets/sutra-grid/token': tokenFile, '/run/secrets/sutra-grid/ca.pem': caFile });
    expect((await runCli(args)).code).not.toBe(0);
  });
});
