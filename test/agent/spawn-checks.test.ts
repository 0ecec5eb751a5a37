import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  canonicalPath,
  checkPortRange,
  checkStoragePathOverlap,
  resolveStoragePath,
  STORAGE_PATH_MAX_BYTES,
  STORAGE_PATH_MAX_DEPTH,
} from '../../runtime/agent/spawn-checks.js';

const root = mkdtempSync(join(tmpdir(), 'spawn-checks-'));
const data = join(root, 'data');
const outside = join(root, 'outside');
mkdirSync(data);
mkdirSync(outside);
mkdirSync(join(data, '.agent'));
symlinkSync(outside, join(data, 'escape'));
// Inside the data dir, pointing at the agent's own state: lexically fine, really .agent.
symlinkSync(join(data, '.agent'), join(data, 'state-link'));
symlinkSync('.agent', join(data, 'relative-state-link'));
symlinkSync(join(root, 'nowhere'), join(data, 'dangling'));
symlinkSync(join(data, 'loop'), join(data, 'loop'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function errorOf(fn: () => unknown): { code?: string; message: string; context?: Record<string, unknown> } | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err as { code?: string; message: string; context?: Record<string, unknown> };
  }
}

function codeOf(fn: () => unknown): string | undefined {
  return errorOf(fn)?.code;
}

/** `depth` one-letter components joined by '/'. */
function deepPath(depth: number): string {
  return Array.from({ length: depth }, () => 'a').join('/');
}

describe('storage path checks', () => {
  it('defaults to <data>/nodes/<id> and resolves relative paths under the data dir', () => {
    expect(resolveStoragePath(data, '', 'n1')).toBe(join(data, 'nodes', 'n1'));
    expect(resolveStoragePath(data, 'custom/n1', 'n1')).toBe(join(data, 'custom', 'n1'));
    expect(resolveStoragePath(data, join(data, 'abs'), 'n1')).toBe(join(data, 'abs'));
  });

  it('refuses escapes: .., absolute elsewhere, the data dir itself, a prefix sibling, a symlink out, the agent state dir', () => {
    for (const p of ['../x', '/etc', data, `${data}-sibling/x`, 'escape/node', '.agent/nodes', '.agent', 'x/../.agent/y']) {
      expect(codeOf(() => resolveStoragePath(data, p, 'n1')), p).toBe('PATH_OUTSIDE_DATA_DIR');
    }
  });

  it('refuses a symlink inside the data dir that leads into .agent (checked on the real path, not the text)', () => {
    for (const p of ['state-link', 'state-link/nodes', 'relative-state-link/x', join(data, 'state-link', 'n')]) {
      const err = errorOf(() => resolveStoragePath(data, p, 'n1'));
      expect(err?.code, p).toBe('PATH_OUTSIDE_DATA_DIR');
      expect(err?.message, p).toContain("agent's state dir");
    }
  });

  it('refuses a path through a symlink that dangles out of the data dir or loops', () => {
    for (const p of ['dangling/n', 'loop/n']) expect(codeOf(() => resolveStoragePath(data, p, 'n1')), p).toBe('PATH_OUTSIDE_DATA_DIR');
  });

  it('refuses ":" (Docker bind syntax) and control characters, naming the field', () => {
    for (const p of ['a:b', 'n1:/etc:rw', 'x\ny', 'nul\0byte']) {
      const err = errorOf(() => resolveStoragePath(data, p, 'n1'));
      expect(err?.code, JSON.stringify(p)).toBe('INVALID_ARGUMENT');
      expect(err?.context?.['field']).toBe('storage_path');
    }
  });

  /**
   * A ceiling only runaway work crosses (the quadratic walk took 25 s on 100 KB), not a speed
   * target: a bounded check takes about a millisecond alone and took 186 ms on a loaded host.
   */
  const RUNAWAY_MS = 2_000;

  it('refuses 100 KB and 10 MB paths at once, with a clear error quoting only a prefix', () => {
    for (const size of [100 * 1024, 10 * 1024 * 1024]) {
      const p = 'a/'.repeat(size / 2);
      const t0 = performance.now();
      const err = errorOf(() => resolveStoragePath(data, p, 'n1'));
      const ms = performance.now() - t0;
      expect(err?.code).toBe('INVALID_ARGUMENT');
      expect(err?.message).toContain(`the limit is ${STORAGE_PATH_MAX_BYTES} (PATH_MAX)`);
      expect(err?.message.length).toBeLessThan(300);
      // Before the fix: over 25 s for 100 KB (quadratic ancestor walk).
      expect(ms, `${size} bytes`).toBeLessThan(RUNAWAY_MS);
    }
  });

  it('refuses a component longer than NAME_MAX', () => {
    expect(codeOf(() => resolveStoragePath(data, `x/${'b'.repeat(256)}`, 'n1'))).toBe('INVALID_ARGUMENT');
    expect(resolveStoragePath(data, `x/${'b'.repeat(255)}`, 'n1')).toBe(join(data, 'x', 'b'.repeat(255)));
  });

  it('refuses a path deeper than STORAGE_PATH_MAX_DEPTH components, quickly', () => {
    // ~2,000 components still fit in PATH_MAX; the old backward walk took 50 ms on it, 25 s on 100 KB.
    const depth = Math.floor((STORAGE_PATH_MAX_BYTES - data.length - 1) / 2);
    const t0 = performance.now();
    const err = errorOf(() => resolveStoragePath(data, deepPath(depth), 'n1'));
    expect(performance.now() - t0).toBeLessThan(RUNAWAY_MS);
    expect(err?.code).toBe('INVALID_ARGUMENT');
    expect(err?.message).toContain(`the limit is ${STORAGE_PATH_MAX_DEPTH}`);
  });

  it('resolves an existing tree as deep as allowed with one lstat per component', () => {
    const depth = STORAGE_PATH_MAX_DEPTH - data.split('/').length;
    const p = join('tree', deepPath(depth));
    mkdirSync(join(data, p), { recursive: true });
    expect(resolveStoragePath(data, p, 'n1')).toBe(join(data, p));
    // One past the limit through a symlink planted in the tree: refused, not walked.
    symlinkSync(join(data, p), join(data, 'tree', 'a', 'to-bottom'));
    expect(codeOf(() => resolveStoragePath(data, 'tree/a/to-bottom/x/y', 'n1'))).toBe('PATH_OUTSIDE_DATA_DIR');
  });

  it('canonicalPath stops at the first missing component and keeps the rest as written', () => {
    expect(canonicalPath(join(data, 'escape', 'x', 'y'))).toBe(join(outside, 'x', 'y'));
    expect(canonicalPath(join(data, 'relative-state-link'))).toBe(join(data, '.agent'));
    // A dangling link leads where mkdir would create it; a loop leads nowhere.
    expect(canonicalPath(join(data, 'dangling', 'x'))).toBe(join(root, 'nowhere', 'x'));
    expect(canonicalPath(join(data, 'loop', 'x'))).toBeUndefined();
  });
});

describe('storage path overlap between nodes', () => {
  const others = [
    { nodeId: 'a', storagePath: join(data, 'nodes', 'a') },
    { nodeId: 'b', storagePath: join(data, 'deep', 'b') },
  ];

  it('refuses a path equal to, inside, or containing another node\'s, naming that node', () => {
    const cases: Array<[string, string]> = [
      [join(data, 'nodes', 'a'), 'a'],
      [join(data, 'nodes', 'a', 'inner'), 'a'],
      [join(data, 'nodes'), 'a'],
      [join(data, 'deep'), 'b'],
      [data, 'a'],
    ];
    for (const [p, owner] of cases) {
      const err = errorOf(() => checkStoragePathOverlap(p, 'new', others));
      expect(err?.code, p).toBe('INVALID_ARGUMENT');
      expect(err?.context?.['otherNodeId'], p).toBe(owner);
      expect(err?.message, p).toContain(`node "${owner}"`);
    }
  });

  it('refuses a path that reaches another node\'s through a symlink', () => {
    mkdirSync(join(data, 'nodes', 'a'), { recursive: true });
    symlinkSync(join(data, 'nodes', 'a'), join(data, 'alias-of-a'));
    expect(errorOf(() => checkStoragePathOverlap(join(data, 'alias-of-a', 'x'), 'new', others))?.context?.['otherNodeId']).toBe('a');
  });

  it('accepts siblings, prefix-named siblings, and the node\'s own path', () => {
    expect(errorOf(() => checkStoragePathOverlap(join(data, 'nodes', 'c'), 'new', others))).toBeUndefined();
    expect(errorOf(() => checkStoragePathOverlap(join(data, 'nodes', 'a2'), 'new', others))).toBeUndefined();
    expect(errorOf(() => checkStoragePathOverlap(join(data, 'nodes', 'a'), 'a', others))).toBeUndefined();
  });
});

describe('port checks', () => {
  it('accepts 1024-65535 only', () => {
    expect(codeOf(() => checkPortRange(1024, 'n'))).toBeUndefined();
    expect(codeOf(() => checkPortRange(65535, 'n'))).toBeUndefined();
    for (const p of [0, 80, 1023, 65536, 1.5]) expect(codeOf(() => checkPortRange(p, 'n'))).toBe('PORT_OUT_OF_RANGE');
  });
});
