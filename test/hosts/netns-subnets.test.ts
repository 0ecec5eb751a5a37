/**
 * Test hosts' subnets are claimed for their lifetime (test/hosts/netns.ts): two sets alive at once,
 * in this process or another test file's, never share one, since each puts the test's own
 * namespace on it and the routes would send one file's calls to the other's hosts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TestHosts } from './netns.js';

const CLAIMS = join(tmpdir(), 'sutra-grid-test-subnets');
const octetOf = (t: TestHosts): string => t.subnet.split('.')[2]!;

afterEach(() => TestHosts.teardownAll());

describe('test host subnets', () => {
  it('are claimed by this process while alive, distinct, and given back on teardown', () => {
    const sets = Array.from({ length: 6 }, () => TestHosts.create(['x']));
    const octets = sets.map(octetOf);
    expect(new Set(octets).size).toBe(octets.length);
    for (const o of octets) expect(Number(readFileSync(join(CLAIMS, o), 'utf8'))).toBe(process.pid);
    for (const t of sets) t.teardown();
    const left = readdirSync(CLAIMS);
    for (const o of octets) expect(left).not.toContain(o);
  });
});
