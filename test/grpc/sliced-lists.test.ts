/**
 * ListNodes and ListAgents of a large grid are encoded a slice at a time, the event loop free in
 * between (runtime/master/handlers/sliced-lists.ts): the answer must be byte for byte what one
 * encode gives, and a real master must list every node and agent of a grid larger than a slice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GridMasterService, ListStorageNodesResponse } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import type { NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { answerInSlices, LIST_SLICE, serializeSlicedLists } from '../../runtime/master/handlers/sliced-lists.js';
import { fakeAgent, fakeNode, TestMasterClient } from '../helpers/grid-client.js';
import { cleanup, startMaster, type DaemonProcess } from '../helpers/processes.js';

const nodesOf = (agentId: string): NodeInfo[] => [1, 2].map((i) => fakeNode(`${agentId}-n${i}`, agentId, { port: 7000 + i, pid: 100 + i, cluster: 'kv', role: 'standalone', generation: 1, startedAtMs: 1_000 + i }));

describe('answerInSlices', () => {
  it('gives the bytes of one encode, and lets the event loop turn between slices', async () => {
    const nodes = Array.from({ length: 2 * LIST_SLICE + 17 }, (_, i) => fakeNode(`n${i}`, `a${i % 7}`, { port: i }));
    // An immediate queued before the call runs before the second slice, not before the first.
    let turned = false;
    setImmediate(() => (turned = true));
    const turnedAtSlice: boolean[] = [];
    const answer = await answerInSlices({ nodes: [] }, nodes, (slice) => {
      turnedAtSlice.push(turned);
      return ListStorageNodesResponse.encode({ nodes: [...slice] }).finish();
    });
    expect(turnedAtSlice).toEqual([false, true, true]);

    const bytes = serializeSlicedLists(GridMasterService).listNodes.responseSerialize(answer);
    expect(Buffer.compare(bytes, Buffer.from(ListStorageNodesResponse.encode({ nodes }).finish()))).toBe(0);
    expect(ListStorageNodesResponse.decode(bytes).nodes).toHaveLength(nodes.length);
    // An answer not made by answerInSlices is serialized as before.
    expect(ListStorageNodesResponse.decode(serializeSlicedLists(GridMasterService).listNodes.responseSerialize({ nodes: nodes.slice(0, 3) })).nodes).toEqual(nodes.slice(0, 3));
  });
});

describe('a master with more nodes and agents than a slice', () => {
  let master: DaemonProcess;
  let client: TestMasterClient;
  const AGENTS = LIST_SLICE + 50;

  beforeAll(async () => {
    master = await startMaster({ args: ['--degraded-after', '60s', '--offline-after', '120s'] });
    client = new TestMasterClient(master.address!);
    const ids = Array.from({ length: AGENTS }, (_, i) => `agent-${String(i).padStart(4, '0')}`);
    for (let i = 0; i < ids.length; i += 50) await Promise.all(ids.slice(i, i + 50).map((id) => client.register(fakeAgent(id), nodesOf(id))));
  }, 120_000);

  afterAll(async () => {
    client?.close();
    await cleanup();
  });

  it('lists every node, in order, field for field', async () => {
    const { nodes } = await client.listNodes();
    expect(nodes).toHaveLength(2 * AGENTS);
    expect(nodes.map((n) => n.nodeId)).toEqual(Array.from({ length: AGENTS }, (_, i) => `agent-${String(i).padStart(4, '0')}`).flatMap((a) => [`${a}-n1`, `${a}-n2`]));
    expect(nodes[2 * 321 + 1]).toEqual({ ...nodesOf('agent-0321')[1], replication: undefined });
    // A filter still applies.
    expect((await client.listNodes('agent-0007')).nodes.map((n) => n.nodeId)).toEqual(['agent-0007-n1', 'agent-0007-n2']);
  });

  it('lists every agent with its nodes', async () => {
    const { agents } = await client.listAgents();
    expect(agents).toHaveLength(AGENTS);
    expect(agents[AGENTS - 1]).toMatchObject({ info: { agentId: `agent-${String(AGENTS - 1).padStart(4, '0')}` }, health: 'healthy' });
    expect(agents[AGENTS - 1]!.nodes.map((n) => n.nodeId)).toEqual([`agent-${String(AGENTS - 1).padStart(4, '0')}-n1`, `agent-${String(AGENTS - 1).padStart(4, '0')}-n2`]);
  });
});
