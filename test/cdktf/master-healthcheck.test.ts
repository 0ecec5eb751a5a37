/**
 * The master container's Docker health check, which `terraform apply` waits on (`wait = true`),
 * run as synthesized against a real `sutra-grid master` process: it must pass against a serving
 * master with the right token, and fail with a wrong token or no master.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Testing } from 'cdktf';
import { afterAll, describe, expect, it } from 'vitest';
import { GridDockerStack } from '../../provider/cdktf/index.js';
import { cleanup, runCli, startMaster, tempDir } from '../helpers/processes.js';

afterAll(cleanup);

/** The synthesized health check as a `sutra-grid` argument list (the image's CLI prefix dropped). */
function synthesizedHealthcheck(): string[] {
  const stack = new GridDockerStack(Testing.app(), 'grid', { specPath: 'examples/cdktf/grid.yaml' });
  const test = JSON.parse(Testing.synth(stack)).resource.docker_container.master.healthcheck.test as string[];
  expect(test.slice(0, 3)).toEqual(['CMD', 'node', '/app/bin/sutra-grid.js']);
  return test.slice(3);
}

describe('master container health check', () => {
  it('passes against a serving master and fails with a wrong token or no master', async () => {
    const args = synthesizedHealthcheck();
    const dir = tempDir('docker-health-');
    const tokenFile = join(dir, 'token');
    const wrongFile = join(dir, 'wrong');
    writeFileSync(tokenFile, 'health-test-token-0123456789\n', { mode: 0o600 });
    writeFileSync(wrongFile, 'not-the-token-0123456789\n', { mode: 0o600 });
    const master = await startMaster({ args: ['--token-file', tokenFile] });
    // Inside the container the check dials 127.0.0.1:7000 and reads the uploaded token file.
    const against = (address: string, file: string): string[] =>
      args.map((a) => (a === '127.0.0.1:7000' ? address : a === '/run/secrets/sutra-grid/token' ? file : a));

    const ok = await runCli(against(master.address, tokenFile));
    expect(ok.code, ok.stderr).toBe(0);
    expect((await runCli(against(master.address, wrongFile))).code).not.toBe(0);
    await master.stop();
    expect((await runCli(against(master.address, tokenFile))).code).not.toBe(0);
  });
});
