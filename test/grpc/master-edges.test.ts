/**
 * The GridMaster's wire edge against a real master: malformed bodies, oversized and echoed
 * inputs, one rule for missing fields and unknown agents, explicit deletes, and non-JSON specs.
 */
import { Client, credentials, Metadata, status as GrpcStatus } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unary } from '../../client/index.js';
import { MAX_DETAILS_CHARS } from '../../runtime/common/grpc-edge.js';
import { MAX_REQUEST_BYTES } from '../../client/index.js';
import { codeOf } from '../helpers/agent-processes.js';
import { TestMasterClient, fakeAgent } from '../helpers/grid-client.js';
import { cleanup, eventually, startMaster, type DaemonProcess } from '../helpers/processes.js';

const AGENT = 'edge-agent';
const SPEC = JSON.stringify({ name: 'edges', agents: [{ id: AGENT, platform: 'process', address: '127.0.0.1:1', capacity: { nodes: 4 } }] });
const MB = 1024 * 1024;

let master: DaemonProcess;
let c: TestMasterClient;
let raw: Client;

beforeAll(async () => {
  // Long thresholds: the fake agent must stay registered and healthy for the whole file.
  master = await startMaster({ args: ['--degraded-after', '60s', '--offline-after', '120s'] });
  c = new TestMasterClient(master.address);
  raw = new Client(master.address, credentials.createInsecure());
  await c.register(fakeAgent(AGENT));
});
afterAll(async () => {
  c.close();
  raw.close();
  await cleanup();
});

/** Sends `body` as the request of `method` exactly as given (no encoding). */
function rawCall(method: string, body: Buffer): Promise<{ code: number; details: string }> {
  return new Promise((resolve) => {
    raw.makeUnaryRequest(
      `/sutra.grid.v1.GridMaster/${method}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      new Metadata(),
      { deadline: new Date(Date.now() + 10_000) },
      (err) => resolve(err ? { code: err.code, details: err.details } : { code: GrpcStatus.OK, details: '' }),
    );
  });
}

const event = (nodeId: string) => ({ index: 0, timestampUs: 0, type: 'NodeCrashed', severity: '', agentId: '', nodeId, cluster: '', payloadJson: '{"exitCode":3}', count: 1, lastSeenUs: 0, message: '' });
const report = (agentId: string, nodeId: string): Promise<unknown> => unary(c.raw.reportNodeEvents as never, c.raw, { agentId, events: [event(nodeId)] }, undefined, 10_000);
const listEvents = (): Promise<{ events: Array<{ nodeId: string; agentId: string }> }> =>
  unary(c.raw.listEvents as never, c.raw, { filter: { types: ['NodeCrashed'], agentId: '', nodeId: '', cluster: '' }, sinceIndex: 0, sinceUs: 0, untilUs: 0, limit: 1000 }, undefined, 10_000);

describe('malformed request bodies', () => {
  it('a body starting with 0x00 (field number 0) is INVALID_ARGUMENT and runs nothing: DeleteSpec, SpawnStorageNode', async () => {
    const applied = await c.applySpec(SPEC);
    const del = await rawCall('DeleteSpec', Buffer.from([0x00]));
    expect(del.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(del.details).toMatch(/malformed request body .*DeleteSpec.*field number 0 at byte 0/);
    const after = await c.getSpec();
    expect(after.generation).toBe(applied.generation);
    expect(after.specJson).not.toBe('');

    const spawn = await rawCall('SpawnStorageNode', Buffer.from([0x00, 0x0a, 0x01, 0x78]));
    expect(spawn.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect((await c.listNodes()).nodes).toEqual([]);
    expect(master.logs()).not.toContain('spawning node');
  });

  it('truncated fields, end-group tags and unknown wire types are INVALID_ARGUMENT, not INTERNAL', async () => {
    // field 1 (string) claims 5 bytes, has 1
    expect(await rawCall('GetStorageNodeStatus', Buffer.from([0x0a, 0x05, 0x41]))).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, details: expect.stringMatching(/runs past the end/) });
    // field 1 as an end-group tag (wire type 4): the generated decoder would stop there silently
    expect(await rawCall('UnregisterAgent', Buffer.from([0x0c]))).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, details: expect.stringMatching(/wire type 4/) });
    // wire type 7 does not exist
    expect((await rawCall('ListAgents', Buffer.from([0x0f]))).code).toBe(GrpcStatus.INVALID_ARGUMENT);
    // a heartbeat stream message is checked the same way: the stream ends with INVALID_ARGUMENT
    const stream = raw.makeBidiStreamRequest('/sutra.grid.v1.GridMaster/HeartbeatStream', (b: Buffer) => b, (b: Buffer) => b, new Metadata());
    const ended = new Promise<{ code: number; details: string }>((resolve) => stream.on('error', (e: { code: number; details: string }) => resolve(e)));
    stream.on('data', () => undefined);
    stream.write(Buffer.from([0x00]));
    expect(await ended).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, details: expect.stringMatching(/field number 0/) });
  });

  it('well-formed bodies still work, unknown fields included (a newer client)', async () => {
    // ListAgents with an unknown field 9 (varint 1)
    expect((await rawCall('ListAgents', Buffer.from([0x48, 0x01]))).code).toBe(GrpcStatus.OK);
    expect((await rawCall('GetSpec', Buffer.alloc(0))).code).toBe(GrpcStatus.OK);
  });
});

describe('bounded answers', () => {
  it('a 1 MB id is refused naming the field, quoting only a short prefix', async () => {
    const huge = 'x'.repeat(MB);
    for (const [what, call, field] of [
      ['Heartbeat', () => c.heartbeat(huge), 'agent_id'],
      ['UnregisterAgent', () => c.unregister(huge), 'agent_id'],
      ['StopStorageNode', () => c.stop(huge), 'node_id'],
      ['GetStorageNodeStatus', () => c.nodeStatus(huge), 'node_id'],
      ['SpawnStorageNode', () => c.spawn({ agentId: AGENT, nodeId: huge }), 'node_id'],
      ['RegisterAgent', () => c.register(fakeAgent(huge)), 'agent.agent_id'],
      ['RegisterAgent address', () => c.register(fakeAgent('edge-2', { address: huge })), 'agent.address'],
    ] as const) {
      const res = await codeOf(call());
      expect(res.code, what).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(res.details, what).toMatch(new RegExp(`^${field.replace('.', '\\.')}: `));
      expect(res.details, what).toContain('(1,048,576 characters)');
      expect(res.details.length, what).toBeLessThan(300);
    }
  });

  it('a message over the request limit is refused before decoding (RESOURCE_EXHAUSTED), and the master serves on', async () => {
    const res = await codeOf(c.heartbeat('y'.repeat(6 * MB)));
    expect(res.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(res.details).toMatch(new RegExp(`larger than max .*${MAX_REQUEST_BYTES}`));
    expect((await c.listAgents()).agents.map((a) => a.info?.agentId)).toContain(AGENT);
  });

  it('a spec with thousands of problems answers at once with the first ones and the count of the rest', async () => {
    const bad = JSON.stringify({ name: 'edges', agents: Array.from({ length: 1000 }, (_, i) => ({ id: `a-${i}`, bogus: 1 })) });
    const res = await codeOf(c.applySpec(bad, undefined, true));
    expect(res.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(res.details).toMatch(/^spec_json: invalid spec, \d+ problem\(s\):/);
    expect(res.details).toMatch(/\.\.\. and \d+ more problem\(s\)/);
    expect(encodeURI(res.details).length).toBeLessThanOrEqual(MAX_DETAILS_CHARS);
  });

  it('1 KB of "[" as a spec answers at once with INVALID_ARGUMENT, and so does a closed nest', async () => {
    for (const spec of ['['.repeat(1024), `{"name":"edges","agents":${'['.repeat(500)}${']'.repeat(500)}}`]) {
      const res = await codeOf(c.applySpec(spec, undefined, true));
      expect(res.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(encodeURI(res.details).length).toBeLessThanOrEqual(MAX_DETAILS_CHARS);
    }
  });
});

describe('one rule for every method', () => {
  it('a missing required field is INVALID_ARGUMENT naming it', async () => {
    for (const [what, call, field] of [
      ['Heartbeat', () => c.heartbeat(''), 'agent_id'],
      ['UnregisterAgent', () => c.unregister(''), 'agent_id'],
      ['ReportNodeEvents', () => report('', 'n-empty'), 'agent_id'],
      ['SpawnStorageNode', () => c.spawn({ agentId: '' }), 'agent_id'],
      ['StopStorageNode', () => c.stop(''), 'node_id'],
      ['GetStorageNodeStatus', () => c.nodeStatus(''), 'node_id'],
      ['RegisterAgent', () => c.register(fakeAgent('')), 'agent.agent_id'],
      ['ApplySpec', () => c.applySpec(''), 'spec_json'],
      ['DeleteSpec', () => c.deleteSpec(), 'expected_generation or grid_name'],
      ['CordonAgent', () => c.cordon(''), 'agent_id'],
      ['UncordonAgent', () => c.uncordon(''), 'agent_id'],
      ['DrainAgent', () => c.drain(''), 'agent_id'],
      ['DrainAgent', () => c.drain(AGENT, -1), 'deadline_ms'],
      ['DrainAgent', () => c.drain(AGENT, 24 * 3600_000 + 1), 'deadline_ms'],
    ] as const) {
      const res = await codeOf(call());
      expect(res.code, what).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(res.details, what).toMatch(new RegExp(`^${field.replace('.', '\\.')}: `));
    }
  });

  it('an unknown agent is NOT_FOUND and nothing is recorded for it', async () => {
    for (const [what, call] of [
      ['Heartbeat', () => c.heartbeat('ghost')],
      ['UnregisterAgent', () => c.unregister('ghost')],
      ['ReportNodeEvents', () => report('ghost', 'n-ghost')],
      ['SpawnStorageNode', () => c.spawn({ agentId: 'ghost' })],
      ['CordonAgent', () => c.cordon('ghost')],
      ['UncordonAgent', () => c.uncordon('ghost')],
      ['DrainAgent', () => c.drain('ghost')],
    ] as const) {
      const res = await codeOf(call());
      expect(res.code, what).toBe(GrpcStatus.NOT_FOUND);
      expect(res.details, what).toContain('"ghost"');
    }
    // A registered agent's report is recorded; once it is listed, so would be anything sent
    // before it (the log keeps order): neither the ghost's nor the empty id's reports are.
    await report(AGENT, 'n-known');
    const listed = await eventually(async () => {
      const { events } = await listEvents();
      return events.some((e) => e.nodeId === 'n-known') ? events : undefined;
    }, 10_000);
    expect(listed.filter((e) => e.nodeId === 'n-known')).toHaveLength(1);
    expect(listed.filter((e) => e.nodeId === 'n-ghost' || e.nodeId === 'n-empty' || e.agentId === 'ghost')).toEqual([]);
    // No cordon was recorded for the ghost either: a spec naming it later finds it schedulable.
    expect((await c.listAgents()).agents.filter((a) => a.cordon !== undefined)).toEqual([]);
  });

  it('a YAML spec sent as spec_json is INVALID_ARGUMENT saying it is not JSON, not INTERNAL', async () => {
    const yaml = `# a grid\nname: edges\nagents:\n  - id: ${AGENT}\n    platform: process\n    address: 127.0.0.1:1\n`;
    for (const dryRun of [true, false]) {
      const res = await codeOf(c.applySpec(yaml, undefined, dryRun));
      expect(res.code).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(res.details).toMatch(/^spec_json: is not JSON.*; ApplySpec takes the spec as JSON/);
    }
  });
});

describe('DeleteSpec names what it deletes', () => {
  it('refuses an empty request and a wrong grid name; deletes by generation or by name', async () => {
    const { generation } = await c.applySpec(SPEC.replace('"edges"', '"edges-del"'));
    expect((await codeOf(c.deleteSpec())).code).toBe(GrpcStatus.INVALID_ARGUMENT);
    const wrong = await codeOf(c.deleteSpec(undefined, 'other-grid'));
    expect(wrong.code).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(wrong.details).toMatch(/^grid_name: the applied grid is "edges-del", not "other-grid"/);
    expect((await c.getSpec()).generation).toBe(generation);

    const byName = await c.deleteSpec(undefined, 'edges-del');
    expect(byName.generation).toBe(generation + 1);
    expect((await c.getSpec()).specJson).toBe('');

    const again = await c.applySpec(SPEC);
    expect((await c.deleteSpec(again.generation)).generation).toBe(again.generation + 1);
  });
});
