/**
 * The entry points' shortcut of `net.isIPv6` (runtime/common/ipv6-check.ts) answers as Node
 * does. In a child process: the shortcut changes the `net` module of the process it runs in.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/processes.js';

const INPUTS = ['127.0.0.1', '0.0.0.0', 'localhost', '', '::', '::1', '[::1]', 'fe80::1%eth0', '::ffff:127.0.0.1', '2001:db8::8a2e:370:7334', '1:2:3', 'a:b', 'not an address', '1.2.3.4:80'];

describe('IPv6 check shortcut of the entry points', () => {
  it('answers every input as Node does, and is in place after the call', () => {
    const script = `
      import net from 'node:net';
      import { shortCircuitIPv6Check } from ${JSON.stringify(join(REPO_ROOT, 'dist', 'runtime', 'common', 'ipv6-check.js'))};
      const inputs = ${JSON.stringify(INPUTS)};
      const before = net.isIPv6;
      const node = inputs.map((a) => before(a));
      shortCircuitIPv6Check();
      const short = inputs.map((a) => net.isIPv6(a));
      process.stdout.write(JSON.stringify({ node, short, replaced: net.isIPv6 !== before }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { node: boolean[]; short: boolean[]; replaced: boolean };
    expect(out.replaced).toBe(true);
    expect(out.short).toEqual(out.node);
    // The inputs hold both answers, so the comparison can fail either way.
    expect(out.node).toContain(true);
    expect(out.node).toContain(false);
  });
});
