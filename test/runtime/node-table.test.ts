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

  it("a stop's answer, pinned, is not undone by a beat assembled before the stop ended; the first beat without the node drops it", () => {
    const t = new NodeTable();
    t.upsert(copy('a', 'x', 'stopped'), 0, 1000);
    // Stale beats that still list the node (stopping, or running before the stop began) change nothing.
    t.replaceForAgent('a', [copy('a', 'x', 'stopping')], 10);
    expect(t.get('x')?.status).toBe('stopped');
    t.replaceForAgent('a', [copy('a', 'x', 'running')], 20);
    expect(t.get('x')?.status).toBe('stopped');
    // The agent forgot it: the next beat leaves it out, and it goes, pin or not.
    t.replaceForAgent('a', [], 30);
    expect(t.get('x')).toBeUndefined();

    // Past the pin, what the agent reports wins again.
    t.upsert(copy('a', 'y', 'stopped'), 0, 100);
    t.replaceForAgent('a', [copy('a', 'y', 'running')], 200);
    expect(t.get('y')?.status).toBe('running');

    // A spawn's pin still keeps a node a beat assembled before the spawn ended leaves out.
    t.upsert(copy('a', 'z', 'running'), 300, 1000);
    t.replaceForAgent('a', [copy('a', 'y', 'running')], 310);
    expect(t.get('z')?.status).toBe('running');
  });
});
