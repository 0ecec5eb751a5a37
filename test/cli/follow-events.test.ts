/**
 * followEvents against a real master: a Ctrl+C that came before the watch started (e.g. while
 * `up` listed the last event index) ends it at once instead of following forever.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { followEvents } from '../../runtime/cli/event-stream.js';
import { cleanup, startMaster } from '../helpers/processes.js';

afterEach(cleanup);

describe('followEvents', () => {
  it('returns at once for a signal aborted before the call', async () => {
    const master = await startMaster();
    const ac = new AbortController();
    ac.abort();
    const seen: number[] = [];
    const t0 = Date.now();
    const outcome = await Promise.race([
      followEvents(master.address, undefined, 1, undefined, { onEvent: (e) => seen.push(e.index) }, ac.signal).then(() => 'ended'),
      new Promise((r) => setTimeout(() => r('still following after 3 s'), 3_000)),
    ]);
    expect(outcome).toBe('ended');
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(seen).toEqual([]);
  });
});
