/**
 * Every command's output arrives whole through a pipe: the CLI used to exit before a pipe had
 * drained, so `validate` with thousands of problems read through a pipe lost most of them, and
 * `validate --json` was cut at the pipe's 64 KB.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, childEnv, cleanup, REPO_ROOT, runCli, tempDir } from '../helpers/processes.js';

afterEach(cleanup);

const PROBLEMS = 3_000;

/** A grid.yaml with one refused platform per agent: PROBLEMS problems. */
function specWithProblems(): string {
  const file = join(tempDir('output-pipe-'), 'grid.yaml');
  const agents = Array.from({ length: PROBLEMS }, (_, i) => `  - { id: a${i}, platform: nope, capacity: { nodes: 1 } }`);
  writeFileSync(file, ['name: many-problems', 'agents:', ...agents, 'clusters: []', ''].join('\n'));
  return file;
}

/** Problem lines (`file:line:col: message`) of validate's human output. */
function problemLines(text: string): number {
  return text.split('\n').filter((l) => /^\S+:\d+:\d+: /.test(l)).length;
}

describe('CLI output through a pipe', () => {
  it('validate prints every problem through a pipe, as many as it writes to a file', async () => {
    const file = specWithProblems();
    // The same run with stderr on a file: written synchronously, never cut.
    const errFile = join(tempDir('output-pipe-out-'), 'stderr.txt');
    const fd = openSync(errFile, 'w');
    try {
      const toFile = spawnSync(process.execPath, [CLI, 'validate', file], { cwd: REPO_ROOT, env: childEnv(), stdio: ['ignore', 'ignore', fd], timeout: 60_000 });
      expect(toFile.status).toBe(1);
    } finally {
      closeSync(fd);
    }
    const written = problemLines(readFileSync(errFile, 'utf8'));
    expect(written).toBe(PROBLEMS);

    // WHEN read through a pipe (runCli reads the child's stdout and stderr from pipes)
    const piped = await runCli(['validate', file]);

    // THEN every problem arrives
    expect(piped.code).toBe(1);
    expect(problemLines(piped.stderr)).toBe(written);
  });

  it('validate --json through a pipe is one whole JSON document', async () => {
    const file = specWithProblems();
    const piped = await runCli(['validate', '--json', file]);
    expect(piped.code).toBe(1);
    expect(piped.stdout.length).toBeGreaterThan(64 * 1024);
    const doc = JSON.parse(piped.stdout) as { valid: boolean; diagnostics: unknown[] };
    expect(doc.valid).toBe(false);
    expect(doc.diagnostics).toHaveLength(PROBLEMS);
  });
});
