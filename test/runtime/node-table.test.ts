import { describe, expect, it } from 'vitest';
import { NodeTable } from '../../runtime/master/node-table.js';
import { nodeFromWire } from '../../runtime/common/grid-wire.js';
import { fakeNode } from '../helpers/grid-client.js';
import type { NodeStatus, NodeView } from '../../runtime/common/grid-types.js';

const copy = (agentId: string, nodeId: string, status: NodeStatus = 'running', startedAtMs = 1): NodeView => ({ ...nodeFromWire(fakeNode(nodeId, agentId)), status, startedAtMs });
const holders = (t: NodeTable, nodeId: string): string[] => t.copies(nodeId).map((n) => n.agentId).sort();

describe('NodeTable', () => {
  it('keeps every copy of a node, one per agent, through adds and removes', () => {
    const t = new NodeTable();
    t.upsert(copy('a', 'x'), 0);
    t.upsert(copy('b', 'x', 'running', 5), 0);
    t.upsert(copy('c', 'x', 'failed', 9), 0);
    t.upsert(copy('a', 'y'), 0);
    expect(holders(t, 'x')).toEqual(['a', 'b', 'c']);
    // An active copy beats a failed one; among active ones the later start.
    expect(t.get('x')?.agentId).toBe('b');
    t.remove('x', 'b');
    expect(t.get('x')?.agentId).toBe('a');
    t.remove('x', 'c');
    expect(holders(t, 'x')).toEqual(['a']);
    // The same agent again is still one copy; another agent makes two again.
    t.upsert(copy('a', 'x'), 0);
    expect(holders(t, 'x')).toEqual(['a']);
    t.upsert(copy('b', 'x'), 0);
    expect(holders(t, 'x')).toEqual(['a', 'b']);
    t.remove('x');
    expect(holders(t, 'x')).toEqual([]);
    expect(t.get('x')).toBeUndefined();
    expect(holders(t, 'y')).toEqual(['a']);
  });

  it('drops what an agent no longer reports, and all of an agent on removeAgent', () => {
    const t = new NodeTable();
    t.replaceForAgent('a', [copy('a', 'p'), copy('a', 'q')], 0);
    t.replaceForAgent('b', [copy('b', 'p')], 0);
    expect(holders(t, 'p')).toEqual(['a', 'b']);
    t.replaceForAgent('a', [copy('a', 'q')], 0);
    expect(holders(t, 'p')).toEqual(['b']);
    expect(t.countForAgent('a')).toBe(1);
    t.removeAgent('a');
    expect(t.countForAgent('a')).toBe(0);
    expect(holders(t, 'q')).toEqual([]);
    expect(t.get('p')?.agentId).toBe('b');
  });
});
