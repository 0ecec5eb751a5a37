/**
 * A damaged spec.json with a real master: each form of damage is named with the file and what is
 * wrong; the master starts from the last good copy (spec.json.prev) under a fresh generation,
 * logs it and records a SpecRecovered event; with no good copy at all it refuses to start with
 * one line naming both files.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestMasterClient } from '../helpers/grid-client.js';
import { cleanup, runCli, startMaster, tempDir, type DaemonProcess } from '../helpers/processes.js';
import { EventsClient } from '../events-e2e/support.js';
import { gridSpec } from './support/declarative-grid.js';

const mounts: string[] = [];
afterEach(async () => {
  // Lazily unmounted first, so the temp dir under it can be removed.
  for (const m of mounts.splice(0)) execFileSync('umount', ['-l', m]);
  await cleanup();
});

const SPEC_A = JSON.stringify(gridSpec([{ id: 'a1' }], [{ name: 'kv', nodes: 1 }]));
const SPEC_B = JSON.stringify(gridSpec([{ id: 'a1' }], [{ name: 'kv', nodes: 2 }]));

/** A data dir whose master applied A (generation 1) then B (generation 2), and stopped. */
async function twoGenerations(): Promise<{ dataDir: string; specA: string }> {
  const dataDir = tempDir('master-spec-');
  const master = await startMaster({ dataDir });
  const c = new TestMasterClient(master.address);
  try {
    expect((await c.applySpec(SPEC_A)).generation).toBe(1);
    const specA = (await c.getSpec()).specJson;
    expect((await c.applySpec(SPEC_B)).generation).toBe(2);
    await master.stop('SIGTERM');
    return { dataDir, specA };
  } finally {
    c.close();
  }
}

/** spec.json as the master wrote it, with `generation` replaced by the raw JSON text `raw`. */
function withGeneration(dataDir: string, raw: string): string {
  return readFileSync(join(dataDir, 'spec.json'), 'utf8').replace(/"generation":\d+/, `"generation":${raw}`);
}

const DAMAGE: ReadonlyArray<[string, (dataDir: string) => string, RegExp]> = [
  ['truncated', (d) => readFileSync(join(d, 'spec.json'), 'utf8').slice(0, 40), /is not valid JSON/],
  ['empty', () => '', /is empty/],
  ['garbage', () => '\u0000\u0017garbage\u00ff', /is not valid JSON/],
  ['an array', () => '[]', /must hold a JSON object, got an array/],
  ['a string generation', (d) => withGeneration(d, '"7"'), /bad generation: must be a non-negative integer up to 2\^53-1, got "7"/],
  ['a negative generation', (d) => withGeneration(d, '-3'), /bad generation: .* got -3/],
  ['generation 1e300', (d) => withGeneration(d, '1e300'), /bad generation: .* got 1e\+300/],
];

describe('a damaged spec.json at a real master', () => {
  it.each(DAMAGE)('%s: starts from the last good copy under a fresh generation, logged and recorded', async (_what, damage, problem) => {
    const { dataDir, specA } = await twoGenerations();
    const specFile = join(dataDir, 'spec.json');
    writeFileSync(specFile, damage(dataDir));

    const master = await startMaster({ dataDir });
    const c = new EventsClient(master.address);
    try {
      // A (generation 1), not the damaged B, under generation 3: the damaged file may have held 2
      // with another spec, and a generation never names two specs.
      const spec = await c.getSpec();
      expect(spec.specJson).toBe(specA);
      expect(spec.generation).toBe(3);
      const line = master.logs().split('\n').find((l) => l.includes('starting from its last good copy')) ?? '{}';
      const msg = String((JSON.parse(line) as { msg?: unknown }).msg);
      expect(msg).toContain(`stored spec ${specFile} `);
      expect(msg).toMatch(problem);
      const event = await c.waitFor('SpecRecovered');
      expect(event.payload).toMatchObject({ file: specFile, fallback: `${specFile}.prev`, generation: 3 });
      expect(String(event.payload['problem'])).toMatch(problem);
      // The damaged file is kept for inspection; the next apply continues the generations.
      expect(readdirSync(dataDir).filter((n) => /^spec\.json\.\d+\.damaged$/.test(n))).toHaveLength(1);
      expect((await c.applySpec(SPEC_B)).generation).toBe(4);
    } finally {
      c.close();
    }
  });

  it('with no good copy left, refuses to start with one line naming both files', async () => {
    const { dataDir } = await twoGenerations();
    const specFile = join(dataDir, 'spec.json');
    writeFileSync(specFile, '{"specJson":');
    writeFileSync(`${specFile}.prev`, '[]');
    const run = await runCli(['master', '--listen', '127.0.0.1:0', '--data-dir', dataDir], { timeoutMs: 30_000 });
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^error: stored spec ${specFile} is not valid JSON \\(.*\\), and its last good copy ${specFile}\\.prev is damaged too: must hold a JSON object, got an array; .*\\(STATE_DAMAGED\\)$`),
    );
  });

  it('damaged after a single apply (no copy yet), refuses naming the file rather than starting empty', async () => {
    const dataDir = tempDir('master-spec-');
    let master: DaemonProcess = await startMaster({ dataDir });
    const c = new TestMasterClient(master.address);
    try {
      await c.applySpec(SPEC_A);
    } finally {
      c.close();
    }
    await master.stop('SIGTERM');
    writeFileSync(join(dataDir, 'spec.json'), '[]');
    const run = await runCli(['master', '--listen', '127.0.0.1:0', '--data-dir', dataDir], { timeoutMs: 30_000 });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`stored spec ${join(dataDir, 'spec.json')} must hold a JSON object, got an array, and its last good copy ${join(dataDir, 'spec.json.prev')} does not exist`);
    // Moving it away is the documented way out: the master then starts with no spec.
    execFileSync('mv', [join(dataDir, 'spec.json'), join(dataDir, 'spec.json.bad')]);
    master = await startMaster({ dataDir });
    expect(master.logs()).toContain('master listening on');
  });
});

describe('spec.json on a full disk', () => {
  it('a failed apply leaves no temp file, and a start removes stale ones', async () => {
    const dataDir = tempDir('master-enospc-');
    mkdirSync(dataDir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dataDir]);
    mounts.push(dataDir);
    writeFileSync(join(dataDir, 'spec.json.424242.tmp'), ''); // left by some earlier crash
    const master = await startMaster({ dataDir });
    const c = new TestMasterClient(master.address);
    try {
      expect((await c.applySpec(SPEC_A)).generation).toBe(1);
      expect(existsSync(join(dataDir, 'spec.json.424242.tmp'))).toBe(false);
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${join(dataDir, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
      } catch {
        // "No space left on device" is the point
      }
      await expect(c.applySpec(SPEC_B)).rejects.toThrow(/ENOSPC|no space/i);
      expect(readdirSync(dataDir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      expect((await c.getSpec()).generation).toBe(1);
    } finally {
      c.close();
      await master.stop('SIGKILL');
    }
  });
});
