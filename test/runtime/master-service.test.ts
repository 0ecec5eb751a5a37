/**
 * The GridMaster implementation names every RPC exactly once: a handler defined by two modules
 * (one silently replacing the other, as query handlers once were) or an RPC left without a handler
 * is refused when the master assembles its service.
 */
import { describe, expect, it } from 'vitest';
import { GridMasterService } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { mergeHandlers } from '../../runtime/master/handlers/master-service.js';
import type { MasterHandlers } from '../../runtime/master/index.js';

const handler = (): Record<string, never> => ({});
const all = Object.fromEntries(Object.keys(GridMasterService).map((name) => [name, handler])) as unknown as MasterHandlers;

function errorOf(fn: () => unknown): { code?: string; context?: { field?: string }; message: string } {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; context?: { field?: string }; message: string };
  }
  throw new Error('expected a refusal');
}

describe('mergeHandlers', () => {
  it('takes modules that together define every RPC once', () => {
    const { listAgents, ...rest } = all;
    const merged = mergeHandlers([{ listAgents }, rest]);
    expect(Object.keys(merged).sort()).toEqual(Object.keys(GridMasterService).sort());
    expect(merged.listAgents).toBe(listAgents);
  });

  it('refuses a handler defined by two modules, naming it', () => {
    const err = errorOf(() => mergeHandlers([all, { listNodes: handler as never }]));
    expect(err).toMatchObject({ code: 'INTERNAL', context: { field: 'listNodes' } });
    expect(err.message).toMatch(/listNodes is defined by handler modules 0 and 1/);
  });

  it('refuses an RPC no module defines, naming it', () => {
    const { watchEvents: _omitted, ...rest } = all;
    const err = errorOf(() => mergeHandlers([rest]));
    expect(err).toMatchObject({ code: 'INTERNAL', context: { field: 'watchEvents' } });
  });
});
