import { describe, expect, test } from 'vitest';
import { parseGridSpec } from '../../schema/index.js';
import { HEAD, onlyMessage, problemsOf, yaml } from './helpers.js';

describe('duplicates and references', () => {
  test('duplicate agent ids and cluster names point at the second one', () => {
    const text = yaml(
      'name: test',
      'agents:',
      '  - id: agent-1',
      '    capacity: { nodes: 4 }',
      '  - id: agent-1',
      '    capacity: { nodes: 4 }',
      'clusters:',
      '  - { name: kg, nodes: 1 }',
      '  - { name: kg, nodes: 1 }',
    );
    expect(problemsOf(text)).toEqual([
      { code: 'SPEC_DUPLICATE_ID', at: '5:9', pointer: '/agents/1/id' },
      { code: 'SPEC_DUPLICATE_ID', at: '9:13', pointer: '/clusters/1/name' },
    ]);
    expect(parseGridSpec(text, 'grid.yaml').diagnostics[0]?.message).toBe('duplicate agent id "agent-1" (first declared at agents[0])');
  });

  test('a pin listed twice', () => {
    const text = yaml(...HEAD, 'clusters:', '  - { name: kg, nodes: 1, placement: { agents: [agent-1, agent-1] } }');
    expect(problemsOf(text)).toEqual([{ code: 'SPEC_DUPLICATE_ID', at: '7:58', pointer: '/clusters/0/placement/agents/1' }]);
  });

  test('pins to undeclared agents, each at its list item, with a hint', () => {
    const text = yaml(...HEAD, 'clusters:', '  - name: kg', '    nodes: 1', '    placement: { agents: [agent-1, agent1, ghost] }');
    expect(problemsOf(text)).toEqual([
      { code: 'SPEC_UNKNOWN_AGENT', at: '9:36', pointer: '/clusters/0/placement/agents/1' },
      { code: 'SPEC_UNKNOWN_AGENT', at: '9:44', pointer: '/clusters/0/placement/agents/2' },
    ]);
    expect(parseGridSpec(text, 'grid.yaml').diagnostics.map((d) => d.message)).toEqual([
      'cluster "kg" is pinned to agent "agent1", which is not declared (did you mean "agent-1"?)',
      'cluster "kg" is pinned to agent "ghost", which is not declared (declared: agent-1)',
    ]);
  });

  test('a selector that matches no agent', () => {
    const text = yaml(...HEAD, 'clusters:', '  - name: kg', '    nodes: 1', '    placement: { selector: { zone: b } }');
    expect(problemsOf(text)).toEqual([{ code: 'SPEC_SELECTOR_NO_MATCH', at: '9:28', pointer: '/clusters/0/placement/selector' }]);
    expect(onlyMessage(text)).toBe('cluster "kg": no declared agent has labels zone=b');
  });

  test('pins and a selector that leave no agent together', () => {
    const text = yaml(
      'name: test',
      'agents:',
      '  - { id: a1, capacity: { nodes: 1 }, labels: { zone: a } }',
      '  - { id: b1, capacity: { nodes: 1 }, labels: { zone: b } }',
      'clusters:',
      '  - { name: kg, nodes: 1, placement: { agents: [a1], selector: { zone: b } } }',
    );
    expect(problemsOf(text)).toEqual([{ code: 'SPEC_SELECTOR_NO_MATCH', at: '6:64', pointer: '/clusters/0/placement/selector' }]);
    expect(onlyMessage(text)).toBe('cluster "kg": none of the pinned agents (a1) has labels zone=b');
  });
});

describe('capacity', () => {
  const agents = ['name: test', 'agents:', '  - { id: agent-1, capacity: { nodes: 2 } }', '  - { id: agent-2, capacity: { nodes: 2, memory: 1Gi } }', 'clusters:'];

  test('a cluster larger than its agents hold, by node count', () => {
    const text = yaml(...agents, '  - name: kg', '    nodes: 5', '    memory: 512Mi');
    expect(problemsOf(text)).toEqual([{ code: 'SPEC_CAPACITY', at: '7:12', pointer: '/clusters/0/nodes' }]);
    expect(onlyMessage(text)).toBe(
      'cluster "kg" needs 5 nodes of 512Mi but the agents it may use can hold at most 4 (agent-1: 2, agent-2: 2)',
    );
  });

  test('a cluster larger than its agents hold, by memory', () => {
    const text = yaml(...agents, '  - name: kg', '    nodes: 4', '    memory: 768Mi');
    expect(problemsOf(text)).toEqual([{ code: 'SPEC_CAPACITY', at: '7:12', pointer: '/clusters/0/nodes' }]);
    expect(onlyMessage(text)).toBe(
      'cluster "kg" needs 4 nodes of 768Mi but the agents it may use can hold at most 3 (agent-1: 2, agent-2: 1 (memory 1Gi))',
    );
  });

  test('the same cluster fits when it is one node smaller', () => {
    expect(problemsOf(yaml(...agents, '  - name: kg', '    nodes: 3', '    memory: 768Mi'))).toEqual([]);
  });

  test('clusters that fit alone but compete for the same agent', () => {
    const text = yaml(
      'name: test',
      'agents:',
      '  - { id: a1, capacity: { nodes: 3 }, labels: { zone: a } }',
      '  - { id: a2, capacity: { nodes: 3 }, labels: { zone: b } }',
      'clusters:',
      '  - { name: x, nodes: 3, placement: { selector: { zone: a } } }',
      '  - { name: y, nodes: 2, placement: { agents: [a1] } }',
      '  - { name: z, nodes: 3 }',
    );
    expect(problemsOf(text)).toEqual([{ code: 'SPEC_CAPACITY', at: '7:23', pointer: '/clusters/1/nodes' }]);
    expect(onlyMessage(text)).toBe('clusters "x", "y" need 5 nodes together but the agents they may use (a1) can hold at most 3');
  });

  test('the same clusters fit when the flexible one can move', () => {
    const text = yaml(
      'name: test',
      'agents:',
      '  - { id: a1, capacity: { nodes: 3 }, labels: { zone: a } }',
      '  - { id: a2, capacity: { nodes: 3 }, labels: { zone: b } }',
      'clusters:',
      '  - { name: x, nodes: 3, placement: { selector: { zone: a } } }',
      '  - { name: z, nodes: 3 }',
    );
    expect(problemsOf(text)).toEqual([]);
  });

  test('clusters whose total memory exceeds every agent together', () => {
    const text = yaml(
      'name: test',
      'agents:',
      '  - { id: a1, capacity: { nodes: 10, memory: 1Gi } }',
      '  - { id: a2, capacity: { nodes: 10, memory: 1Gi } }',
      'clusters:',
      '  - { name: x, nodes: 3, memory: 512Mi }',
      '  - { name: y, nodes: 2, memory: 300Mi }',
    );
    expect(problemsOf(text)).toEqual([{ code: 'SPEC_CAPACITY', at: '6:3', pointer: '/clusters' }]);
    expect(onlyMessage(text)).toBe('clusters need 2136Mi of memory in total but the agents they may use offer 2Gi');
  });

  test('leader and replicas forced onto one agent is a warning, and the spec is accepted', () => {
    const text = yaml(...HEAD, 'clusters:', '  - { name: kg, nodes: 3, topology: leader-replicas }');
    const result = parseGridSpec(text, 'grid.yaml');
    expect(result.ok).toBe(true);
    expect(problemsOf(text)).toEqual([{ code: 'SPEC_TOPOLOGY', at: '7:24', pointer: '/clusters/0/nodes', severity: 'warning' }]);
  });
});

describe('ports and addresses', () => {
  test('an inverted port range', () => {
    const text = yaml(...HEAD, 'storage:', '  portRange: { start: 50300, end: 50200 }');
    expect(problemsOf(text)).toEqual([{ code: 'SPEC_PORT_RANGE', at: '7:35', pointer: '/storage/portRange/end' }]);
    expect(onlyMessage(text)).toBe('port range is inverted: end 50200 is before start 50300');
  });

  test('a port range too small for the nodes local agents may run', () => {
    const text = yaml(
      'name: test',
      'storage:',
      '  portRange: { start: 50051, end: 50055 }',
      'agents:',
      '  - { id: a1, capacity: { nodes: 4 } }',
      '  - { id: a2, address: "localhost:8102", capacity: { nodes: 4 } }',
      'clusters:',
      '  - { name: kg, nodes: 8 }',
    );
    expect(problemsOf(text)).toEqual([{ code: 'SPEC_PORT_RANGE', at: '3:14', pointer: '/storage/portRange' }]);
    expect(onlyMessage(text)).toBe('storage.portRange 50051-50055 has 5 ports but 8 nodes may run on this machine (agents a1, a2)');
  });

  test('the same range is enough when the agents are on different hosts', () => {
    const text = yaml(
      'name: test',
      'storage:',
      '  portRange: { start: 50051, end: 50055 }',
      'agents:',
      '  - { id: a1, address: "10.0.0.1:8101", capacity: { nodes: 4 } }',
      '  - { id: a2, address: "10.0.0.2:8101", capacity: { nodes: 4 } }',
      'clusters:',
      '  - { name: kg, nodes: 8 }',
    );
    expect(problemsOf(text)).toEqual([]);
  });

  test('an agent or the master listening inside the node port range', () => {
    const text = yaml(
      'name: test',
      'master: { address: "127.0.0.1:50100" }',
      'agents:',
      '  - id: a1',
      '    address: 127.0.0.1:50060',
      '    capacity: { nodes: 1 }',
    );
    expect(problemsOf(text)).toEqual([
      { code: 'SPEC_PORT_RANGE', at: '2:20', pointer: '/master/address' },
      { code: 'SPEC_PORT_RANGE', at: '5:14', pointer: '/agents/0/address' },
    ]);
  });

  test('ports outside 1-65535 and malformed or shared addresses', () => {
    const text = yaml(
      'name: test',
      'master: { address: "127.0.0.1:99999" }',
      'storage: { portRange: { start: 0, end: 70000 } }',
      'agents:',
      '  - { id: a1, address: "127.0.0.1:8101", capacity: { nodes: 1 } }',
      '  - { id: a2, address: "localhost:8101", capacity: { nodes: 1 } }',
      '  - { id: a3, address: "no-port", capacity: { nodes: 1 } }',
    );
    expect(problemsOf(text)).toEqual([
      { code: 'SPEC_ADDRESS', at: '2:20', pointer: '/master/address' },
      { code: 'SPEC_PORT_RANGE', at: '3:32', pointer: '/storage/portRange/start' },
      { code: 'SPEC_PORT_RANGE', at: '3:40', pointer: '/storage/portRange/end' },
      { code: 'SPEC_ADDRESS', at: '6:24', pointer: '/agents/1/address' },
      { code: 'SPEC_ADDRESS', at: '7:24', pointer: '/agents/2/address' },
    ]);
  });
});

describe('monitoring thresholds', () => {
  test.each([
    ['degradedAfter: 40s', '/monitoring/degradedAfter', 'degradedAfter (40s) must be shorter than offlineAfter (30s)'],
    ['offlineAfter: 10s', '/monitoring/offlineAfter', 'degradedAfter (15s) must be shorter than offlineAfter (10s)'],
    [
      'heartbeatInterval: 20s',
      '/monitoring/heartbeatInterval',
      'degradedAfter (15s) must be longer than heartbeatInterval (20s), or each heartbeat arrives late',
    ],
    ['heartbeatInterval: 0s', '/monitoring/heartbeatInterval', 'must be greater than 0'],
    ['restart: { window: 0s }', '/monitoring/restart/window', 'must be greater than 0 when maxRestarts is above 0'],
  ])('%s blames the value the user wrote', (line, pointer, message) => {
    const text = yaml(...HEAD, 'monitoring:', `  ${line}`);
    const { diagnostics } = parseGridSpec(text, 'grid.yaml');
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ code: 'SPEC_MONITORING', pointer, line: 7, message });
  });
});

describe('replication', () => {
  const TWO_AGENTS = ['name: test', 'agents:', '  - { id: a1, capacity: { nodes: 4 } }', '  - { id: a2, capacity: { nodes: 4 } }', 'clusters:'];

  test('defaults: sync with a quorum of one when the cluster has replicas, async for one node or standalone', () => {
    const text = yaml(...TWO_AGENTS, '  - { name: kg, nodes: 3, topology: leader-replicas }', '  - { name: one, nodes: 1, topology: leader-replicas }', '  - { name: st, nodes: 2 }');
    const result = parseGridSpec(text, 'grid.yaml');
    if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
    expect(result.compiled.clusters.map((c) => c.replication)).toEqual([
      { durability: 'sync', syncQuorum: 1, syncTimeoutMs: 5_000 },
      { durability: 'async', syncQuorum: 1, syncTimeoutMs: 5_000 },
      { durability: 'async', syncQuorum: 1, syncTimeoutMs: 5_000 },
    ]);
  });

  test('a written policy compiles, the timeout in milliseconds', () => {
    const text = yaml(...TWO_AGENTS, '  - { name: kg, nodes: 3, topology: leader-replicas, replication: { durability: sync, syncQuorum: 2, syncTimeout: 1500ms } }');
    const result = parseGridSpec(text, 'grid.yaml');
    if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
    expect(result.compiled.clusters[0]?.replication).toEqual({ durability: 'sync', syncQuorum: 2, syncTimeoutMs: 1_500 });
  });

  test('a quorum larger than the replicas is refused at the field, naming the cluster', () => {
    const text = yaml(...TWO_AGENTS, '  - { name: kg, nodes: 2, topology: leader-replicas, replication: { syncQuorum: 2 } }');
    expect(problemsOf(text)).toEqual([{ code: 'SPEC_TOPOLOGY', at: '6:81', pointer: '/clusters/0/replication/syncQuorum' }]);
    expect(onlyMessage(text)).toMatch(/^cluster "kg": a sync write waits for 2 replica\(s\) but the cluster has 1; every write would fail/);
  });

  test('sync on a single node is refused; replication on a standalone cluster is refused', () => {
    const single = yaml(...TWO_AGENTS, '  - { name: kg, nodes: 1, topology: leader-replicas, replication: { durability: sync } }');
    expect(problemsOf(single).map((p) => p.pointer)).toEqual(['/clusters/0/replication/durability']);
    const standalone = yaml(...TWO_AGENTS, '  - { name: st, nodes: 2, replication: { durability: async } }');
    expect(problemsOf(standalone).map((p) => p.pointer)).toEqual(['/clusters/0/replication']);
    expect(onlyMessage(standalone)).toBe('cluster "st": replication applies to topology leader-replicas only');
  });

  test('an unknown durability is a schema error', () => {
    const text = yaml(...TWO_AGENTS, '  - { name: kg, nodes: 2, topology: leader-replicas, replication: { durability: eventual } }');
    expect(problemsOf(text).map((p) => p.code)).toEqual(['SPEC_SCHEMA']);
  });
});
