import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkPortRange, resolveStoragePath } from '../../runtime/agent/spawn-checks.js';

const root = mkdtempSync(join(tmpdir(), 'spawn-checks-'));
const data = join(root, 'data');
const outside = join(root, 'outside');
mkdirSync(data);
mkdirSync(outside);
symlinkSync(outside, join(data, 'escape'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe('storage path checks', () => {
  it('defaults to <data>/nodes/<id> and resolves relative paths under the data dir', () => {
    expect(resolveStoragePath(data, '', 'n1')).toBe(join(data, 'nodes', 'n1'));
    expect(resolveStoragePath(data, 'custom/n1', 'n1')).toBe(join(data, 'custom', 'n1'));
    expect(resolveStoragePath(data, join(data, 'abs'), 'n1')).toBe(join(data, 'abs'));
  });

  it('refuses escapes: .., absolute elsewhere, the data dir itself, a prefix sibling, a symlink out, the agent state dir', () => {
    for (const p of ['../x', '/etc', data, `${data}-sibling/x`, 'escape/node', '.agent/nodes']) {
      expect(codeOf(() => resolveStoragePath(data, p, 'n1')), p).toBe('PATH_OUTSIDE_DATA_DIR');
    }
  });
});

describe('port checks', () => {
  it('accepts 1024-65535 only', () => {
    expect(codeOf(() => checkPortRange(1024, 'n'))).toBeUndefined();
    expect(codeOf(() => checkPortRange(65535, 'n'))).toBeUndefined();
    for (const p of [0, 80, 1023, 65536, 1.5]) expect(codeOf(() => checkPortRange(p, 'n'))).toBe('PORT_OUT_OF_RANGE');
  });
});
