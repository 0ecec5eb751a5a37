/**
 * The HTTP API against a real master and agent: every route, its answers shaped like the CLI's
 * `--json`, and its errors as problem details naming the field and the gRPC code behind them.
 */
import { get as httpGet, request as httpRequest } from 'node:http';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runCli, trackPid } from '../helpers/processes.js';
import { HttpGrid, gridSpec, type ProblemBody } from './support/http-grid.js';

let grid: HttpGrid;
const SPEC = gridSpec([{ id: 'a1' }], [{ name: 'kv', nodes: 1 }]);

beforeAll(async () => {
  grid = new HttpGrid();
  await grid.startHttpMaster();
  await grid.agent('a1');
  await eventually(async () => ((await grid.call<{ agents: unknown[] }>('agents')).body.agents.length === 1 ? true : undefined), 20_000);
});

afterAll(async () => {
  const leaked = await grid.teardown();
  expect(leaked).toEqual([]);
});

/** Asserts a problem answer and returns its body. */
function expectProblem(a: { status: number; contentType: string; body: unknown }, status: number, grpcCode: string, field?: string): ProblemBody {
  const p = a.body as ProblemBody;
  expect(a.contentType, JSON.stringify(a.body)).toMatch(/^application\/problem\+json/);
  expect(p).toMatchObject({ status, grpcCode });
  expect(a.status).toBe(status);
  expect(p.type).toMatch(/^urn:sutra-grid:error:[A-Z_]+$/);
  expect(typeof p.title).toBe('string');
  expect(p.detail.length).toBeGreaterThan(0);
  if (field !== undefined) expect(p.field).toBe(field);
  return p;
}

/** A GET with headers fetch may not set (Host). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; contentType: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
  });
}

/**
 * A POST of a body past the server's limit. The server answers 413 from the declared length alone
 * and closes the connection: a client still sending then fails on the broken upload (EPIPE) and
 * may never read the answer (fetch does). So this one sends the headers first and the body only if
 * no answer came within half a second, as a client waiting on `Expect: 100-continue` would.
 */
function rawPost(url: string, contentType: string, body: string): Promise<{ status: number; contentType: string; body: unknown }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(body) } }, (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: JSON.parse(text) as unknown }));
      res.on('error', reject);
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.flushHeaders();
    setTimeout(() => {
      if (!answered) req.end(body);
    }, 500);
  });
}

async function cliJson(...args: string[]): Promise<Record<string, unknown>> {
  const res = await runCli([...args, '--json', '--master', grid.master.address]);
  expect(res.code, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as Record<string, unknown>;
}

describe('HTTP API: declarative routes', () => {
  it('GET spec before any apply: no spec, generation 0', async () => {
    const a = await grid.call('spec');
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ spec: null, generation: 0, appliedAtMs: 0 });
  });

  it('POST plan: the plan the CLI shows, against the applied generation; nothing is applied', async () => {
    const a = await grid.postYaml('plan', stringify(SPEC));
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(a.body).toMatchObject({ changed: true, specChanged: true, generation: 0, hasChanges: true, summary: { create: 1, destroy: 0 } });
    expect(a.body['actions']).toEqual([expect.objectContaining({ op: 'create', cluster: 'kv', nodeId: 'kv-0', agentId: 'a1' })]);
    expect(String(a.body['text'])).toMatch(/\+ create kv-0 on a1/);
    // The CLI's plan --json has the same fields and values.
    const file = grid.writeSpec(SPEC);
    const res = await runCli(['plan', file, '--json', '--master', grid.master.address]);
    expect(res.code).toBe(2);
    const cli = JSON.parse(res.stdout) as Record<string, unknown>;
    for (const [k, v] of Object.entries(cli)) expect(a.body[k], k).toEqual(v);
    expect((await grid.call('spec')).body['generation']).toBe(0);
  });

  it('POST plan: a bad spec is 400 naming the field with every diagnostic and its line', async () => {
    const p = expectProblem(await grid.postYaml('plan', 'name: t\nagents: 3\nclusters: []\n'), 400, 'INVALID_ARGUMENT', '/agents');
    expect(p.type).toBe('urn:sutra-grid:error:SPEC_INVALID');
    expect(p.diagnostics).toContainEqual(expect.objectContaining({ pointer: '/agents', line: 2 }));
    expectProblem(await grid.postYaml('plan', '   '), 400, 'INVALID_ARGUMENT', 'body');
  });

  it('POST apply: needs the expected generation, applies, and refuses a stale one with 409', async () => {
    expectProblem(await grid.postYaml('apply', stringify(SPEC)), 400, 'INVALID_ARGUMENT', 'expectedGeneration');
    const a = await grid.postYaml('apply?expectedGeneration=0', stringify(SPEC));
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(a.body).toMatchObject({ generation: 1, changed: true });
    expect(a.body['plan']).toMatchObject({ summary: { create: 1 } });
    // Someone else applied meanwhile: the caller's generation 0 is stale.
    const changed = { ...SPEC, monitoring: { ...(SPEC['monitoring'] as object), replaceAfter: '2s' } };
    const stale = expectProblem(await grid.postYaml('apply?expectedGeneration=0', stringify(changed)), 409, 'FAILED_PRECONDITION', 'expectedGeneration');
    expect(stale.type).toBe('urn:sutra-grid:error:STALE_GENERATION');
    const spec = await grid.call('spec');
    expect(spec.body).toMatchObject({ generation: 1, spec: { name: 'test' } });
  });

  it('GET nodes and GET status: the declared node runs; the shapes carry the CLI --json fields', async () => {
    const node = await eventually(async () => {
      const a = await grid.call<{ nodes: Array<Record<string, unknown>> }>('nodes?cluster=kv');
      return a.body.nodes.find((n) => n['status'] === 'running');
    }, 30_000);
    trackPid(Number(node['pid']));
    expect(node).toMatchObject({ nodeId: 'kv-0', agentId: 'a1', cluster: 'kv', role: 'standalone' });
    const cli = (await cliJson('list-nodes', '--cluster', 'kv')) as { nodes: Array<Record<string, unknown>> };
    const http = (await grid.call<{ nodes: Array<Record<string, unknown>> }>('nodes?cluster=kv')).body.nodes;
    expect(http).toHaveLength(cli.nodes.length);
    for (const [i, n] of cli.nodes.entries()) for (const [k, v] of Object.entries(n)) expect(http[i]![k], k).toEqual(v);

    const status = await grid.call('status');
    expect(status.body).toMatchObject({ agents: { total: 1, healthy: 1 }, specGeneration: 1, clusters: [expect.objectContaining({ name: 'kv', desired: 1 })] });
    const cliStatus = await cliJson('status');
    for (const k of Object.keys(cliStatus)) expect(status.body[k], k).toEqual(cliStatus[k]);

    // Once the node runs, the plan of the same spec has nothing to do.
    const again = await grid.postYaml('plan', stringify(SPEC));
    expect(again.body).toMatchObject({ changed: false, specChanged: false, generation: 1, hasChanges: false });

    expectProblem(await grid.call('nodes?agent=bad%20id'), 400, 'INVALID_ARGUMENT', 'agent');
    expectProblem(await grid.call('nodes?colour=red'), 400, 'INVALID_ARGUMENT', 'colour');
  });
});

describe('HTTP API: agents, nodes, spawn and stop', () => {
  it('GET agents: the CLI list-agents --json fields, plus address and labels', async () => {
    const a = await grid.call<{ agents: Array<Record<string, unknown>> }>('agents');
    expect(a.body.agents).toEqual([expect.objectContaining({ id: 'a1', status: 'healthy', platform: 'process', maxNodes: 4 })]);
    expect(String(a.body.agents[0]!['address'])).toMatch(/^127\.0\.0\.1:\d+$/);
    const cli = (await cliJson('list-agents')) as { agents: Array<Record<string, unknown>> };
    for (const [k, v] of Object.entries(cli.agents[0]!)) expect(a.body.agents[0]![k], k).toEqual(v);
  });

  it('POST agents/:id/cordon and uncordon: as the CLI, shown in GET agents', async () => {
    const c = await grid.post('agents/a1/cordon', { reason: 'disk swap' });
    expect(c.status, JSON.stringify(c.body)).toBe(200);
    expect(c.body).toEqual({ agentId: 'a1', cordoned: true, by: 'operator', reason: 'disk swap', changed: true });
    const listed = await grid.call<{ agents: Array<Record<string, unknown>> }>('agents');
    expect(listed.body.agents[0]).toMatchObject({ id: 'a1', cordoned: true, cordonedBy: 'operator', cordonReason: 'disk swap' });
    const cli = (await cliJson('list-agents')) as { agents: Array<Record<string, unknown>> };
    for (const [k, v] of Object.entries(cli.agents[0]!)) expect(listed.body.agents[0]![k], k).toEqual(v);
    // Without a body: cordoned already, the reason given before is replaced by none.
    const again = await grid.call('agents/a1/cordon', { method: 'POST' });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toMatchObject({ cordoned: true });
    const u = await grid.post('agents/a1/uncordon', {});
    expect(u.body).toEqual({ agentId: 'a1', cordoned: false, by: '', reason: '', changed: true });
    expectProblem(await grid.post('agents/ghost/cordon', {}), 404, 'NOT_FOUND');
    expectProblem(await grid.post('agents/a1/cordon', { reason: 'x'.repeat(300) }), 400, 'INVALID_ARGUMENT', 'reason');
    expectProblem(await grid.post('agents/a1/cordon', { why: 'x' }), 400, 'INVALID_ARGUMENT', 'why');
    expect((await grid.call<{ agents: Array<Record<string, unknown>> }>('agents')).body.agents[0]).toMatchObject({ cordoned: false });
  });

  it('POST spawn, GET nodes/:id, POST stop', async () => {
    const spawned = await grid.post('spawn', { agentId: 'a1', nodeId: 'by-hand' });
    expect(spawned.status, JSON.stringify(spawned.body)).toBe(200);
    expect(spawned.body).toMatchObject({ nodeId: 'by-hand', agentId: 'a1' });
    expect(Number(spawned.body['port'])).toBeGreaterThan(0);
    trackPid(Number(spawned.body['pid']));

    const live = await eventually(async () => {
      const a = await grid.call('nodes/by-hand');
      return a.body['status'] === 'running' ? a : undefined;
    }, 20_000);
    expect(live.body).toMatchObject({ nodeId: 'by-hand', agentId: 'a1', restarts: 0 });
    expect(live.body['stale']).toBeUndefined();
    expectProblem(await grid.call('nodes/by-hand?agent=a2'), 404, 'NOT_FOUND');

    expectProblem(await grid.post('stop', { nodeId: 'by-hand', agentId: 'elsewhere' }), 404, 'NOT_FOUND');
    const stopped = await grid.post('stop', { nodeId: 'by-hand', graceMs: 2000 });
    expect(stopped.status, JSON.stringify(stopped.body)).toBe(200);
    expect(stopped.body).toMatchObject({ nodeId: 'by-hand', agentId: 'a1', status: 'stopped' });
  });

  it('refuses bad spawns and stops with the field and the gRPC code', async () => {
    expectProblem(await grid.post('spawn', {}), 400, 'INVALID_ARGUMENT', 'agentId');
    expectProblem(await grid.post('spawn', { agentId: 'a1', port: 70000 }), 400, 'INVALID_ARGUMENT', 'port');
    expectProblem(await grid.post('spawn', { agentId: 'a1', port: 80 }), 400, 'INVALID_ARGUMENT', 'port');
    expectProblem(await grid.post('spawn', { agentId: 'a1', colour: 'red' }), 400, 'INVALID_ARGUMENT', 'colour');
    expectProblem(await grid.post('spawn', { agentId: '../etc' }), 400, 'INVALID_ARGUMENT', 'agentId');
    const ghost = expectProblem(await grid.post('spawn', { agentId: 'ghost' }), 404, 'NOT_FOUND');
    expect(ghost.type).toBe('urn:sutra-grid:error:AGENT_NOT_FOUND');
    expectProblem(await grid.post('stop', {}), 400, 'INVALID_ARGUMENT', 'nodeId');
    expectProblem(await grid.post('stop', { nodeId: 'ghost' }), 404, 'NOT_FOUND');
    expectProblem(await grid.call('nodes/ghost'), 404, 'NOT_FOUND');
    expectProblem(await grid.call('nodes/-x'), 400, 'INVALID_ARGUMENT', 'id');
    // A form post from another site could send text/plain: never taken.
    expectProblem(await grid.call('spawn', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"agentId":"a1"}' }), 415, 'INVALID_ARGUMENT', 'Content-Type');
    expectProblem(await grid.call('spawn', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"agentId":' }), 400, 'INVALID_ARGUMENT');
  });
});

describe('HTTP API: events, limits, origin, OpenAPI', () => {
  it('GET events: the CLI filters, and the CLI events --json shape', async () => {
    // The agent reports a stop's StopRequested after the stop answered: wait until it is recorded.
    const a = await eventually(async () => {
      const got = await grid.call<{ events: Array<Record<string, unknown>>; firstIndex: number; lastIndex: number }>('events?type=SpawnRequested,StopRequested&node=by-hand');
      return got.body.events.length >= 2 ? got : undefined;
    }, 10_000);
    expect(a.status).toBe(200);
    expect(a.body.events.map((e) => e['type'])).toEqual(['SpawnRequested', 'StopRequested']);
    expect(a.body.lastIndex).toBeGreaterThanOrEqual(Number(a.body.events[1]!['index']));
    const cli = (await cliJson('events', '--type', 'SpawnRequested,StopRequested', '--node', 'by-hand')) as { events: unknown[] };
    expect(a.body.events).toEqual(cli.events);
    const repeated = await grid.call<{ events: unknown[] }>('events?type=SpawnRequested&type=StopRequested&node=by-hand');
    expect(repeated.body.events).toEqual(a.body.events);
    const one = await grid.call<{ events: unknown[] }>('events?limit=1');
    expect(one.body.events).toHaveLength(1);
    const recent = await grid.call<{ events: Array<{ type: string }> }>('events?since=10m&type=SpecApplied');
    expect(recent.body.events.map((e) => e.type)).toEqual(['SpecApplied']);
    expectProblem(await grid.call('events?type=Bogus'), 400, 'INVALID_ARGUMENT', 'type');
    expectProblem(await grid.call('events?since=soon'), 400, 'INVALID_ARGUMENT', 'since');
    expectProblem(await grid.call('events?sinceIndex=-1'), 400, 'INVALID_ARGUMENT', 'sinceIndex');
  });

  it('bounds request bodies: 64 KiB of JSON, the spec limit for a spec', async () => {
    const big = { agentId: 'a1', storagePath: 'x'.repeat(70 * 1024) };
    expectProblem(await rawPost(`${grid.http}/api/grid/spawn`, 'application/json', JSON.stringify(big)), 413, 'RESOURCE_EXHAUSTED', 'body');
    const huge = `# ${'x'.repeat(2 * 1024 * 1024 + 10)}\n`;
    expectProblem(await rawPost(`${grid.http}/api/grid/plan`, 'application/yaml', huge), 413, 'RESOURCE_EXHAUSTED', 'body');
  });

  it('refuses cross-origin and rebound-host requests, sends no CORS headers, 404s unknown routes', async () => {
    const cross = await grid.call('status', { headers: { origin: 'http://evil.example' } });
    expectProblem(cross, 403, 'PERMISSION_DENIED');
    expect(cross.headers.get('access-control-allow-origin')).toBeNull();
    const same = await grid.call('status', { headers: { origin: grid.http } });
    expect(same.status).toBe(200);
    expect(same.headers.get('access-control-allow-origin')).toBeNull();
    // A page whose name was rebound to 127.0.0.1 (fetch cannot set Host, node:http can).
    const rebound = await rawGet(`${grid.http}/api/grid/status`, { host: 'evil.example' });
    expect(rebound.status).toBe(403);
    expect(rebound.contentType).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(rebound.body)).toMatchObject({ grpcCode: 'PERMISSION_DENIED' });
    expectProblem(await grid.call('nothing-here'), 404, 'NOT_FOUND');
    // `/` is the dashboard (test/http/dashboard.test.ts), served with no CORS header either.
    const root = await fetch(`${grid.http}/`, { headers: { origin: 'http://evil.example' } });
    expect(root.status).toBe(403);
    expect(root.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('serves an OpenAPI document generated from the route schemas', async () => {
    const a = await grid.call<{ openapi: string; paths: Record<string, Record<string, { summary?: string; responses: Record<string, unknown> }>> }>('openapi.json');
    expect(a.status).toBe(200);
    expect(a.body.openapi).toBe('3.1.0');
    const ops = Object.entries(a.body.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(ops.sort()).toEqual(
      [
        'GET /api/grid/agents',
        'GET /api/grid/status',
        'GET /api/grid/nodes',
        'GET /api/grid/nodes/{id}',
        'GET /api/grid/spec',
        'GET /api/grid/events',
        'POST /api/grid/spawn',
        'POST /api/grid/stop',
        'POST /api/grid/plan',
        'POST /api/grid/apply',
        'POST /api/grid/agents/{id}/cordon',
        'POST /api/grid/agents/{id}/uncordon',
        'POST /api/grid/agents/{id}/drain',
        'POST /api/grid/nodes/{id}/restart',
        'POST /api/grid/nodes/{id}/promote',
      ].sort(),
    );
    for (const methods of Object.values(a.body.paths)) {
      for (const op of Object.values(methods)) {
        expect(op.summary).toBeTruthy();
        expect(op.responses).toHaveProperty('400');
      }
    }
    const spawn = a.body.paths['/api/grid/spawn']!['post'] as unknown as { requestBody: { content: Record<string, { schema: { required: string[] } }> } };
    expect(spawn.requestBody.content['application/json']!.schema.required).toEqual(['agentId']);
  });
});
