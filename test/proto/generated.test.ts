import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('generated proto code', () => {
  const work = mkdtempSync(join(tmpdir(), 'sutra-gen-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('is exactly what regenerating from proto/ produces', () => {
    // GIVEN a copy of proto/ without its generated output
    cpSync(join(root, 'proto'), join(work, 'proto'), { recursive: true, filter: (src) => !src.includes(join('proto', 'gen')) });
    const buf = join(root, 'node_modules', '.bin', 'buf');
    const gen = readFileSync(join(root, 'proto', 'buf.gen.yaml'), 'utf8').replace(
      '../node_modules/.bin/protoc-gen-ts_proto',
      join(root, 'node_modules', '.bin', 'protoc-gen-ts_proto'),
    );
    const template = join(work, 'buf.gen.yaml');
    writeFileSync(template, gen);
    // WHEN it is regenerated
    execFileSync(buf, ['generate', '--template', template], { cwd: join(work, 'proto'), stdio: 'pipe' });
    // THEN the committed files are identical, file for file
    const committed = join(root, 'proto', 'gen');
    const fresh = join(work, 'proto', 'gen');
    expect(listFiles(fresh)).toEqual(listFiles(committed));
    for (const f of listFiles(committed)) {
      expect(readFileSync(join(fresh, f), 'utf8'), f).toBe(readFileSync(join(committed, f), 'utf8'));
    }
  });
});
