/**
 * The agent and the storage-server never make V8 set up its time zone (issue 17). V8 does so from
 * ICU's data on the first Date operation other than reading or setting the time value (even
 * toISOString touches it), and keeps it: ~0.4-0.8 MB of RSS in every daemon, for time zones the
 * grid never shows. The build edits the two places grpc-js did this on every daemon's path
 * (scripts/bundle.mjs, GRPC_JS_EDITS): the `date` header of its answers and its backoff timer.
 * A probe loaded into each process (NODE_OPTIONS --require) records every call of any other Date
 * method, with its stack. Node's own modules call Date through primordials, out of the probe's
 * reach: the header http2 would add is checked on the wire (test/storage/bundle-responses.test.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthProbe } from '../../runtime/agent/health-probe.js';
import { cleanup, childEnv, runCli, startAgent, startBundledStorageServer, startMaster, tempDir } from '../helpers/processes.js';

afterEach(cleanup);

/** Writes the probe; its record goes to the returned `out` file (there only once a call was seen). */
function dateProbe(): { require: string; out: string } {
  const dir = tempDir('time-zone-');
  const probe = join(dir, 'probe.cjs');
  const out = join(dir, 'calls.txt');
  writeFileSync(
    probe,
    `const { appendFileSync } = require('node:fs');
     // Date's time value itself: no calendar, no zone.
     const plain = ['constructor', 'getTime', 'setTime', 'valueOf'];
     for (const name of Object.getOwnPropertyNames(Date.prototype)) {
       if (plain.includes(name)) continue;
       const real = Date.prototype[name];
       Date.prototype[name] = function (...args) {
         appendFileSync(${JSON.stringify(out)}, name + '\\n' + new Error().stack + '\\n\\n');
         return real.apply(this, args);
       };
     }`,
  );
  return { require: probe, out };
}

const calls = (out: string): string => (existsSync(out) ? readFileSync(out, 'utf8') : '');

describe("V8's time zone", () => {
  it('the probe sees such a call (the checks below can fail)', async () => {
    const { require, out } = dateProbe();
    const child = spawn(process.execPath, ['-e', 'new Date().getMilliseconds()'], { env: { ...process.env, NODE_OPTIONS: `--require ${require}` }, stdio: 'ignore' });
    await new Promise((r) => child.once('exit', r));
    expect(calls(out)).toMatch(/^getMilliseconds\n/);
  });

  it('an agent never sets it up: registering, spawning a node, stopping it', async () => {
    const { require, out } = dateProbe();
    const master = await startMaster();
    const agent = await startAgent({ id: 'lt', master: master.address, env: childEnv({ NODE_OPTIONS: `--require ${require}` }) });
    await agent.waitForLog(/registered with the master/);
    const spawned = await runCli(['--master', master.address, 'spawn', '-a', 'lt', '-n', 'lt0']);
    expect(spawned.code, spawned.stderr).toBe(0);
    const stopped = await runCli(['--master', master.address, 'stop', 'lt0']);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(calls(out)).toBe('');
  });

  it('a storage-server never sets it up: starting and answering', async () => {
    const { require, out } = dateProbe();
    const address = await startBundledStorageServer({ ...process.env, NODE_OPTIONS: `--require ${require}` });
    const probe = new HealthProbe(address);
    try {
      expect(await probe.check(5000)).toBe(true);
    } finally {
      probe.close();
    }
    expect(calls(out)).toBe('');
  });
});
