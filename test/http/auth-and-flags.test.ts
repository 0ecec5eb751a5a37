/**
 * The HTTP API's token, its flag on `sutra-grid master`, and `sutra-grid up` turning it on: real
 * processes.
 */
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { portBlock } from '../helpers/ports.js';
import { runCli, startDaemon, startMaster, tempDir, type DaemonProcess } from '../helpers/processes.js';
import { DeclarativeGrid } from '../declarative/support/declarative-grid.js';

const TOKEN = 'http-test-token-0123456789';
let daemons: DaemonProcess[] = [];
let grid: DeclarativeGrid | undefined;

afterEach(async () => {
  await Promise.all(daemons.map((d) => d.stop('SIGTERM', 10_000)));
  daemons = [];
  const leaked = (await grid?.teardown()) ?? [];
  grid = undefined;
  expect(leaked).toEqual([]);
});

async function httpOf(d: DaemonProcess): Promise<string> {
  const m = await d.waitForLog(/master HTTP API listening on http:\/\/([^\s"]+)/);
  return `http://${m[1]!}`;
}

describe('HTTP API authentication', () => {
  it('with a token, every route wants it as a bearer token: 401 without, before reading a body', async () => {
    const master = await startMaster({ args: ['--http', '127.0.0.1:0'], env: { SUTRA_GRID_TOKEN: TOKEN } });
    daemons.push(master);
    const http = await httpOf(master);
    for (const path of ['/api/grid/status', '/api/grid/agents', '/api/grid/events', '/api/grid/openapi.json', '/metrics']) {
      const none = await fetch(`${http}${path}`);
      expect(none.status, path).toBe(401);
      expect(none.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await none.json()).toMatchObject({ status: 401, grpcCode: 'UNAUTHENTICATED', type: 'urn:sutra-grid:error:UNAUTHENTICATED' });
      const wrong = await fetch(`${http}${path}`, { headers: { authorization: `Bearer ${TOKEN}x` } });
      expect(wrong.status, path).toBe(401);
      const right = await fetch(`${http}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(right.status, path).toBe(200);
      await right.arrayBuffer();
    }
    // An unauthenticated caller is refused before its body is read: 401, not 413.
    const big = await fetch(`${http}/api/grid/spawn`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ agentId: 'a'.repeat(200 * 1024) }) });
    expect(big.status).toBe(401);
    // With the token, a request from another origin is still refused.
    const cross = await fetch(`${http}/api/grid/status`, { headers: { authorization: `Bearer ${TOKEN}`, origin: 'http://evil.example' } });
    expect(cross.status).toBe(403);
    // The gRPC side takes the same token.
    const cli = await runCli(['status', '--json', '--master', master.address], { env: { SUTRA_GRID_TOKEN: TOKEN } });
    expect(cli.code, cli.stderr).toBe(0);
  });
});

describe('--http', () => {
  it('is off by default, and refuses a bad or insecure address naming the flag', async () => {
    const plain = await startMaster();
    daemons.push(plain);
    expect(plain.logs()).not.toMatch(/HTTP API listening/);

    const bad = await runCli(['master', '--listen', '127.0.0.1:0', '--http', 'nowhere', '--data-dir', tempDir('master-')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--http: expected HOST:PORT/);
    const open = await runCli(['master', '--listen', '127.0.0.1:0', '--http', '0.0.0.0:0', '--data-dir', tempDir('master-')]);
    expect(open.code).not.toBe(0);
    expect(open.stderr).toMatch(/--http: refusing to listen on 0\.0\.0\.0 without a token.*\(INSECURE_BIND\)/);
    // A taken port: the master does not start, and says which flag.
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (taken.address() as AddressInfo).port;
      const busy = await runCli(['master', '--listen', '127.0.0.1:0', '--http', `127.0.0.1:${port}`, '--data-dir', tempDir('master-')]);
      expect(busy.code).not.toBe(0);
      expect(busy.stderr).toMatch(/--http: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    } finally {
      taken.close();
    }
  });

  it('`sutra-grid up` serves the HTTP API of its grid on a free loopback port and prints it', async () => {
    grid = new DeclarativeGrid();
    const ports = portBlock(50);
    const file = grid.writeSpec(`name: up-http
monitoring: { heartbeatInterval: 200ms, degradedAfter: 800ms, offlineAfter: 1600ms, replaceAfter: 2s }
storage:
  dataPath: ${join(grid.dir('up-data'), 'nodes')}
  memory: 64Mi
  portRange: { start: ${ports.start}, end: ${ports.end} }
agents:
  - { id: u1, platform: process, capacity: { nodes: 2 } }
clusters:
  - { name: kv, nodes: 1 }
`);
    const up = grid.adopt(await startDaemon('master', ['up', file, '--listen', '127.0.0.1:0', '--state-dir', join(grid.dir('up-state'), '.grid')], { timeoutMs: 60_000 }));
    const m = await up.waitForLog(/HTTP API on (http:\/\/127\.0\.0\.1:\d+)\/api\/grid, metrics on http:\/\/127\.0\.0\.1:\d+\/metrics/, 30_000);
    await up.waitForLog(/^grid converged$/m, 60_000);
    const status = await fetch(`${m[1]!}/api/grid/status`);
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ agents: { total: 1, healthy: 1 }, clusters: [expect.objectContaining({ name: 'kv', running: 1 })] });
    const exit = await up.stop('SIGINT', 30_000);
    expect(exit, up.logs()).toEqual({ code: 0, signal: null });
  });
});
