/**
 * The storage-server's readiness notification (ready-notify.ts): the agent's process platform
 * runs its health check when the node says it serves instead of polling a port that refuses
 * connections until then. The word must come only once health says SERVING, and never leak to a
 * node started without the pipe.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { READY_FD_ENV, READY_LINE, takeReadyFd } from '../../runtime/storage/ready-notify.js';
import { STORAGE_BUNDLE_ENTRY } from '../../runtime/storage/bundle-files.js';
import { healthCheck } from '../helpers/agent-processes.js';
import { portBlock } from '../helpers/ports.js';
import { REPO_ROOT, cleanup, tempDir, trackPid } from '../helpers/processes.js';

/** The file agents spawn (the bundle `npm run build` makes). */
const ENTRY = join(REPO_ROOT, 'dist', 'runtime', 'bundle', STORAGE_BUNDLE_ENTRY);

afterEach(cleanup);

describe('readiness notification', () => {
  it('takes the descriptor out of the environment, refusing the standard streams and non-numbers', () => {
    const env: NodeJS.ProcessEnv = { [READY_FD_ENV]: '3' };
    expect(takeReadyFd(env)).toBe(3);
    expect(env[READY_FD_ENV]).toBeUndefined();
    expect(takeReadyFd({})).toBeUndefined();
    expect(takeReadyFd({ [READY_FD_ENV]: '1' })).toBeUndefined();
    expect(takeReadyFd({ [READY_FD_ENV]: '3; rm' })).toBeUndefined();
  });

  it('writes the ready line on the inherited pipe once the node answers SERVING, then closes it', async () => {
    const port = portBlock(1).start;
    const child = spawn(process.execPath, [ENTRY, '--port', String(port), '--storage-path', join(tempDir('ready-'), 'node'), '--memory', '64'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, [READY_FD_ENV]: '3' },
    });
    trackPid(child.pid ?? 0);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const pipe = child.stdio[3] as Readable;
    let got = '';
    pipe.on('data', (c: Buffer) => (got += c.toString()));
    // The node closes its end after the line: the pipe ends without the node exiting.
    await new Promise<void>((resolve, reject) => {
      pipe.once('end', resolve);
      void exited.then((code) => reject(new Error(`storage-server exited ${code} before closing the pipe`)));
    });
    expect(got).toBe(READY_LINE);
    expect(child.exitCode).toBeNull();
    // The word came after SERVING, not before: the first check made on it passes.
    expect((await healthCheck(`127.0.0.1:${port}`)).status).toBe('SERVING');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
