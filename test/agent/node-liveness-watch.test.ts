/**
 * A running node's liveness as the agent reads it: from a health Watch stream, paced by keepalive
 * pings, not a Check per interval (runtime/agent/health-watch.ts). Real agent and master
 * processes; the nodes are small storage binaries (`[storage].binary_path`) that count the health
 * calls they get and turn NOT_SERVING on SIGUSR2. One of them implements Check only, as a
 * storage binary of the operator's may: its node is checked once per interval instead.
 * The hung node (SIGSTOP) is in agent-nodes.test.ts, against the bundled storage-server.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestAgentClient, startAgent } from '../helpers/agent-processes.js';
import { REPO_ROOT, cleanup, eventually, startMaster, tempDir, trackPid } from '../helpers/processes.js';

afterEach(cleanup);

/** The agent's liveness interval in these tests (agent-processes.ts, FAST_MONITORING). */
const INTERVAL_MS = 500;

interface Counts {
  readonly checks: number;
  readonly watches: number;
}

/**
 * Writes a storage binary serving the health service on the port the agent gives (`--port P`, its
 * first arguments), with Watch or without. It writes its counts of Check calls and Watch streams
 * to `counts-<pid>.json` beside itself on every call, and turns NOT_SERVING on SIGUSR2.
 */
function healthBinary(withWatch: boolean): { path: string; dir: string } {
  const dir = tempDir('health-bin-');
  const path = join(dir, 'storage.mjs');
  const grpc = join(REPO_ROOT, 'node_modules', '@grpc', 'grpc-js');
  const health = join(REPO_ROOT, 'dist', 'runtime', 'common', 'health.js');
  writeFileSync(
    path,
    `#!${process.execPath}
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
const { Server, ServerCredentials } = createRequire(import.meta.url)(${JSON.stringify(grpc)});
const { HealthService, HealthServiceDefinition } = await import(${JSON.stringify(`file://${health}`)});
const counts = { checks: 0, watches: 0 };
const save = () => writeFileSync(${JSON.stringify(dir)} + '/counts-' + process.pid + '.json', JSON.stringify(counts));
let status = 'SERVING';
const server = new Server();
if (${withWatch}) {
  const svc = new HealthService({ '': 'SERVING' });
  const impl = {};
  // The real service's handlers, counted.
  svc.addToServer({ addService: (_d, h) => Object.assign(impl, h) });
  server.addService(HealthServiceDefinition, {
    check: (call, cb) => { counts.checks++; save(); impl.check(call, cb); },
    watch: (call) => { counts.watches++; save(); impl.watch(call); },
    list: impl.list,
  });
  process.on('SIGUSR2', () => svc.setStatus('', 'NOT_SERVING'));
} else {
  const { watch, list, ...checkOnly } = HealthServiceDefinition;
  server.addService(checkOnly, { check: (_call, cb) => { counts.checks++; save(); cb(null, { status }); } });
  process.on('SIGUSR2', () => { status = 'NOT_SERVING'; });
}
server.bindAsync('127.0.0.1:' + process.argv[3], ServerCredentials.createInsecure(), (err) => { if (err) process.exit(1); });
`,
  );
  chmodSync(path, 0o755);
  return { path, dir };
}

function countsOf(dir: string, pid: number): Counts {
  const file = join(dir, `counts-${pid}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Counts) : { checks: 0, watches: 0 };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A master and an agent whose nodes run `binary`; the agent's client. */
async function gridOf(binary: string): Promise<TestAgentClient> {
  const master = await startMaster({ args: ['--heartbeat-interval', '200ms'] });
  const agent = await startAgent({ master: master.address, config: { storage: { binary_path: binary } } });
  return new TestAgentClient(agent.address);
}

/** The node's next run, once it runs with another pid than `pid`. */
async function nextRun(c: TestAgentClient, nodeId: string, pid: number): Promise<Awaited<ReturnType<TestAgentClient['status']>>> {
  const s = await eventually(async () => {
    const n = await c.status(nodeId);
    return n.status === 'running' && n.pid !== pid ? n : undefined;
  }, 20_000, 50);
  trackPid(s.pid);
  return s;
}

describe('agent: a running node liveness from its health Watch', () => {
  it('opens one Watch and makes no Check while the node serves; NOT_SERVING pushed gets it killed after 3 intervals', async () => {
    const bin = healthBinary(true);
    const c = await gridOf(bin.path);
    try {
      const node = await c.spawn({ nodeId: 'watched' });
      trackPid(node.pid);
      expect(node.status).toBe('running');
      const atRunning = await eventually(() => {
        const n = countsOf(bin.dir, node.pid);
        return n.watches === 1 ? n : undefined;
      });
      // Eight intervals later: not one Check more, and the node still running. The stream may have
      // been opened once more (a ping missed by a starved machine drops the connection), not more.
      await sleep(8 * INTERVAL_MS);
      const later = countsOf(bin.dir, node.pid);
      expect(later.checks).toBe(atRunning.checks);
      expect(later.watches).toBeLessThanOrEqual(2);
      expect(await c.status('watched')).toMatchObject({ status: 'running', pid: node.pid, restarts: 0 });

      process.kill(node.pid, 'SIGUSR2');
      const said = Date.now();
      const revived = await nextRun(c, 'watched', node.pid);
      expect(revived.lastExit).toMatch(/^unhealthy: 3 failed health checks/);
      expect(revived.restarts).toBe(1);
      // Killed on the third interval that read NOT_SERVING, not on the first.
      expect(Date.now() - said).toBeGreaterThanOrEqual(2 * INTERVAL_MS);
    } finally {
      c.close();
    }
  });

  it('checks a node whose server has no Watch (UNIMPLEMENTED) once per interval, and kills it when it stops serving', async () => {
    const bin = healthBinary(false);
    const c = await gridOf(bin.path);
    try {
      const node = await c.spawn({ nodeId: 'polled' });
      trackPid(node.pid);
      const before = countsOf(bin.dir, node.pid).checks;
      await sleep(8 * INTERVAL_MS);
      // No kill for a server without Watch: it is checked instead, about once per interval.
      expect(await c.status('polled')).toMatchObject({ status: 'running', pid: node.pid, restarts: 0 });
      const checks = countsOf(bin.dir, node.pid).checks - before;
      expect(checks).toBeGreaterThanOrEqual(5);
      expect(checks).toBeLessThanOrEqual(10);

      process.kill(node.pid, 'SIGUSR2');
      const revived = await nextRun(c, 'polled', node.pid);
      expect(revived.lastExit).toMatch(/^unhealthy: 3 failed health checks/);
    } finally {
      c.close();
    }
  });
});
