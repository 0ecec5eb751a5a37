/**
 * A client that stalls: a child process holding a gRPC stream open to a server (the standard
 * health Watch, which every storage node serves), then paused with SIGSTOP. Its connection stays
 * open and its half never closes, as with a frozen process or a peer behind a dead network path.
 */
import { spawn } from 'node:child_process';
import { REPO_ROOT, trackPid } from '../../helpers/processes.js';

const SCRIPT = `
import { credentials, makeGenericClientConstructor } from '@grpc/grpc-js';
const Health = makeGenericClientConstructor({
  Watch: {
    path: '/grpc.health.v1.Health/Watch', requestStream: false, responseStream: true,
    requestSerialize: () => Buffer.alloc(0), requestDeserialize: (b) => b,
    responseSerialize: (b) => b, responseDeserialize: (b) => b,
  },
}, 'Health');
const client = new Health(process.argv[1], credentials.createInsecure());
const stream = client.Watch({});
stream.once('data', () => process.stdout.write('watching\\n'));
stream.on('error', () => {});
setInterval(() => {}, 60_000);
`;

/** A paused client; `pid` is tracked for cleanup (SIGKILL works on a stopped process). */
export interface StalledClient {
  readonly pid: number;
  /** Lets it run again. */
  resume(): void;
}

/** Opens a health Watch stream to `address`, waits for its first answer, then SIGSTOPs the client. */
export async function stalledClient(address: string, timeoutMs = 10_000): Promise<StalledClient> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT, address], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid!;
  trackPid(pid);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stalled client to ${address}: no answer within ${timeoutMs} ms\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (!output.includes('watching')) return;
      clearTimeout(timer);
      resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`stalled client to ${address} exited ${code}\n${output}`));
    });
  });
  child.removeAllListeners('exit');
  process.kill(pid, 'SIGSTOP');
  return { pid, resume: () => process.kill(pid, 'SIGCONT') };
}
