/**
 * `sutra-grid events --follow` against a real master: the listed history, then live events as
 * they happen, with no gap and no repeat between the two; SIGINT ends it cleanly.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { Event } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { unary } from '../../client/index.js';
import { fakeAgent } from '../helpers/grid-client.js';
import { CLI, REPO_ROOT, childEnv, cleanup, eventually, startMaster, trackPid } from '../helpers/processes.js';
import { EventsClient, FAST_MASTER, contiguous } from './support.js';

afterEach(cleanup);

function crash(seq: number): Event {
  return { index: 0, timestampUs: 0, type: 'NodeCrashed', severity: '', agentId: '', nodeId: `n${seq}`, cluster: '', payloadJson: JSON.stringify({ exitCode: seq }), count: 1, lastSeenUs: 0, message: '' };
}

describe('events --follow', () => {
  it('prints the history, then live events in order with no gap; human lines without --json; SIGINT exits 0', async () => {
    // Long thresholds: the registered fake agent never degrades, so its registration is the only
    // event besides the reports (index 1; the crashes follow from index 2).
    const master = await startMaster({ args: [...FAST_MASTER, '--degraded-after', '60s', '--offline-after', '120s'] });
    const c = new EventsClient(master.address);
    try {
      await c.register(fakeAgent('a1'));
      const report = (seq: number): Promise<unknown> => unary(c.raw.reportNodeEvents as never, c.raw, { agentId: 'a1', events: [crash(seq)] }, undefined, 5000);
      for (let i = 1; i <= 3; i++) await report(i);
      await eventually(async () => (await c.ofType('NodeCrashed')).length === 3);

      const follow = (json: boolean) => {
        const proc = spawn(process.execPath, [CLI, 'events', '--follow', '--type', 'NodeCrashed', '--master', master.address, ...(json ? ['--json'] : [])], { cwd: REPO_ROOT, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
        trackPid(proc.pid ?? 0);
        let out = '';
        let err = '';
        proc.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
        proc.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
        const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
        return { proc, exited, lines: () => out.split('\n').filter((l) => l !== ''), stderr: () => err };
      };
      const jsonFollower = follow(true);
      const textFollower = follow(false);
      await eventually(() => jsonFollower.lines().length === 3 && textFollower.lines().length === 3, 10_000);

      // WHEN more events happen while they follow
      for (let i = 4; i <= 8; i++) await report(i);

      // THEN each follower prints them once, in order, right after the history
      await eventually(() => jsonFollower.lines().length === 8 && textFollower.lines().length === 8, 10_000);
      const printed = jsonFollower.lines().map((l) => JSON.parse(l) as { index: number; type: string; payload: { exitCode: number } });
      contiguous(printed, 2);
      expect(printed.map((e) => e.payload.exitCode)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(textFollower.lines()[3]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z #5 error {3}NodeCrashed node n4 on agent a1 crashed \(exit code 4\)$/);

      jsonFollower.proc.kill('SIGINT');
      textFollower.proc.kill('SIGINT');
      expect(await jsonFollower.exited).toBe(0);
      expect(await textFollower.exited).toBe(0);
      expect(jsonFollower.stderr()).toBe('');
    } finally {
      c.close();
    }
  });
});
