/**
 * `sutra-grid --version` (and `-V`): the version of package.json on stdout, exit 0, alone (answered
 * by bin/sutra-grid.js without loading the CLI) and among other global flags (answered by the
 * program, runtime/cli/program.ts), bundled and unbundled; and never a crash when the reader of
 * its output has gone.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from '../helpers/processes.js';

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('sutra-grid --version', () => {
  it.each([[['--version']], [['-V']], [['--json', '--version']], [['--master', '127.0.0.1:1', '-V']]])('%j prints the version and exits 0', async (args) => {
    const res = await runCli(args);
    expect(res).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('the unbundled CLI answers it too', () => {
    const res = spawnSync(process.execPath, [join(REPO_ROOT, 'dist', 'runtime', 'cli', 'main.js'), '--version'], { encoding: 'utf8' });
    expect({ code: res.status, stdout: res.stdout, stderr: res.stderr }).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it('is listed in the help', async () => {
    const res = await runCli(['--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^\s+-V, --version\s+print the version of sutra-grid and exit$/m);
  });

  it.each([[['--version']], [['--json', '--version']]])('%j into a pipe whose reader has gone: exit 0, nothing on stderr', (args) => {
    // `sutra-grid --version | true`: `true` has exited long before Node has started and writes.
    const res = spawnSync('bash', ['-c', '"$0" "$@" | true; echo "status ${PIPESTATUS[0]}"', process.execPath, join(REPO_ROOT, 'bin', 'sutra-grid.js'), ...args], {
      encoding: 'utf8',
    });
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe('status 0\n');
  });
});
