/**
 * Where a client given several masters sends a call next: the leader a follower names, the next
 * address after any not-leader refusal (a deposed leader's included: it wrote nothing), and
 * nowhere after any other refusal of a change.
 */
import { describe, expect, it } from 'vitest';
import { nextMaster } from '../../client/leader-hint.js';

const MASTERS = ['10.0.0.1:7000', '10.0.0.2:7000', '10.0.0.3:7000'];
const UNAVAILABLE = 14;

describe('nextMaster', () => {
  it('goes to the leader a follower names', () => {
    expect(nextMaster(MASTERS, MASTERS[0]!, UNAVAILABLE, 'ApplySpec: this master does not lead: the leading master is at 10.0.0.3:7000 [leader=10.0.0.3:7000]')).toBe(MASTERS[2]);
  });

  it('goes on to the next address after a deposed leader refused a change (nothing was written)', () => {
    const deposed = 'cannot apply: this master does not lead: it was deposed (its etcd leader key is gone); nothing was written';
    expect(nextMaster(MASTERS, MASTERS[1]!, UNAVAILABLE, deposed)).toBe(MASTERS[2]);
  });

  it('stops at any other refusal of a change, and with a single master', () => {
    expect(nextMaster(MASTERS, MASTERS[0]!, UNAVAILABLE, 'cannot write the spec: etcd did not answer; its quorum may be lost')).toBeUndefined();
    expect(nextMaster(MASTERS, MASTERS[0]!, 3, 'spec: bad')).toBeUndefined();
    expect(nextMaster([MASTERS[0]!], MASTERS[0]!, UNAVAILABLE, 'this master does not lead')).toBeUndefined();
  });
});
