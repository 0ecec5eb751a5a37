import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ownsListener } from '../../runtime/agent/port-owner.js';

const listen = (port = 0): Promise<Server> =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });
const portOf = (srv: Server): number => (srv.address() as { port: number }).port;
const close = (srv: Server): Promise<void> => new Promise((resolve) => srv.close(() => resolve()));

describe('ownsListener', () => {
  const servers: Server[] = [];
  let child: ChildProcess | undefined;
  afterEach(async () => {
    await Promise.all(servers.splice(0).map(close));
    child?.kill('SIGKILL');
    child = undefined;
  });

  it('finds the listener of this process, and nobody on a port that nothing listens on', async () => {
    const srv = await listen();
    servers.push(srv);
    const port = portOf(srv);
    expect(ownsListener(process.pid, port)).toBe(true);
    await close(servers.pop()!);
    expect(ownsListener(process.pid, port)).toBe(false);
  });

  it('finds a listener whose line comes after the first chunk read from the table', async () => {
    // GIVEN ~600 listening sockets (~90 KB of /proc/net/tcp), WHEN the last one is looked up,
    // THEN the scan carries lines across reads and still finds it.
    for (let i = 0; i < 600; i++) servers.push(await listen());
    for (const srv of [servers[0]!, servers[299]!, servers[599]!]) expect(ownsListener(process.pid, portOf(srv))).toBe(true);
  });

  it('does not take another process group for the owner of the port', async () => {
    const srv = await listen();
    const port = portOf(srv);
    await close(srv);
    // A detached child is the leader of its own group: not this process, not this group.
    child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${port}, '127.0.0.1', () => process.stdout.write('up'))`], {
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    await new Promise((resolve) => child!.stdout!.once('data', resolve));
    expect(ownsListener(process.pid, port)).toBe(false);
    expect(ownsListener(child.pid!, port)).toBe(true);
  });
});
