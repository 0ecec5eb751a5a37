/**
 * Every command's output arrives whole through a pipe: the CLI used to exit before a pipe had
 * drained, so `validate` with thousands of problems read through a pipe lost most of them, and
 * `validate --json` was cut at the pipe's 64 KB. The spec parser now lists the first 100 problems
 * and counts the rest, so output over a pipe's 64 KB comes from `events` here.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeAgent, TestMasterClient } from '../helpers/grid-client.js';
import { CLI, childEnv, cleanup, eventually, REPO_ROOT, runCli, startMaster, tempDir } from '../helpers/processes.js';

afterEach(cleanup);

const PROBLEMS = 3_000;
/** What validate lists of them: the first 100, then one line counting the rest. */
const LISTED = 101;

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
    const text = readFileSync(errFile, 'utf8');
    const written = problemLines(text);
    expect(written).toBe(LISTED);
    expect(text).toContain(`and ${PROBLEMS - 100} more problems`);

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
    const doc = JSON.parse(piped.stdout) as { valid: boolean; diagnostics: unknown[] };
    expect(doc.valid).toBe(false);
    expect(doc.diagnostics).toHaveLength(LISTED);
  });

  it('events, text and --json, arrive whole through a pipe well past its 64 KB', async () => {
    // GIVEN a master that recorded 800 agent registrations
    const master = await startMaster();
    const c = new TestMasterClient(master.address);
    try {
      for (let i = 0; i < 800; i++) await c.register(fakeAgent(`pipe-agent-${i}`));
    } finally {
      c.close();
    }
    // ...all of them durable (queries see an event once its batch is written and synced, a moment
    // after the registration answered: a loaded CI host once listed 797 of 800 right away)
    const registered = async (): Promise<number> =>
      (JSON.parse((await runCli(['events', '--json', '--type', 'AgentRegistered', '--master', master.address])).stdout) as { events: unknown[] }).events.length;
    await eventually(async () => (await registered()) === 800, 20_000);
    // WHEN both forms are read through pipes
    const json = await runCli(['events', '--json', '--type', 'AgentRegistered', '--master', master.address]);
    const text = await runCli(['events', '--type', 'AgentRegistered', '--master', master.address]);
    // THEN each is whole: every registration, and --json parses
    expect(json.code, json.stderr).toBe(0);
    expect(json.stdout.length).toBeGreaterThan(64 * 1024);
    expect((JSON.parse(json.stdout) as { events: unknown[] }).events).toHaveLength(800);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.length).toBeGreaterThan(64 * 1024);
    expect(text.stdout.split('\n').filter((l) => l.includes('AgentRegistered'))).toHaveLength(800);
  });
});
