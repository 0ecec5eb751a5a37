/**
 * MasterClient.watchEvents, as `up` and `events --follow` use it, against a real master: a Ctrl+C
 * that came before the watch started (e.g. while `up` listed the last event index) ends it at once
 * instead of following forever.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { withMaster } from '../../client/index.js';
import { cleanup, startMaster } from '../helpers/processes.js';

afterEach(cleanup);

describe('watchEvents', () => {
  it('returns at once for a signal aborted before the call', async () => {
    const master = await startMaster();
    const ac = new AbortController();
    ac.abort();
    const seen: number[] = [];
    const t0 = Date.now();
    const outcome = await Promise.race([
      withMaster({ address: master.address }, (m) => m.watchEvents(1, undefined, { onEvent: (e) => seen.push(e.index) }, ac.signal)).then(() => 'ended'),
      new Promise((r) => setTimeout(() => r('still following after 3 s'), 3_000)),
    ]);
    expect(outcome).toBe('ended');
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(seen).toEqual([]);
  });
});
