/**
 * The bundled gRPC servers answer without http2's `date` header (scripts/bundle.mjs,
 * grpcWithoutTimeZone): formatting it made V8 set up ICU's time-zone data, RSS that every node
 * kept for good (issue 17). The answer is otherwise a gRPC answer: status 200, gRPC's content type,
 * and the call's status in the trailers.
 */
import { spawn } from 'node:child_process';
import { connect, constants, type IncomingHttpHeaders } from 'node:http2';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { STORAGE_BUNDLE_ENTRY } from '../../runtime/storage/bundle-files.js';
import { REPO_ROOT, cleanup, tempDir, trackPid } from '../helpers/processes.js';

afterEach(cleanup);

/** Starts the bundled storage-server on port 0; its address once it listens. */
async function startBundled(): Promise<string> {
  const entry = join(REPO_ROOT, 'dist', 'runtime', 'bundle', STORAGE_BUNDLE_ENTRY);
  const child = spawn(process.execPath, [entry, '--port', '0', '--host', '127.0.0.1', '--storage-path', join(tempDir(), 'node')], { stdio: ['ignore', 'pipe', 'pipe'] });
  trackPid(child.pid!);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`storage-server exited ${code} before listening`)));
  });
}

/** One raw gRPC call (an empty request message) over http2: the response's headers and trailers. */
function rawCall(address: string, path: string): Promise<{ headers: IncomingHttpHeaders; trailers: IncomingHttpHeaders }> {
  const session = connect(`http://${address}`);
  return new Promise((resolve, reject) => {
    session.once('error', reject);
    const req = session.request({ [constants.HTTP2_HEADER_METHOD]: 'POST', [constants.HTTP2_HEADER_PATH]: path, 'content-type': 'application/grpc', te: 'trailers' });
    let headers: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    req.once('response', (h) => (headers = h));
    req.once('trailers', (t) => (trailers = t));
    // A trailers-only answer ends with its headers: no trailers event.
    req.once('close', () => {
      session.close();
      resolve({ headers, trailers });
    });
    req.once('error', reject);
    req.resume();
    req.end(Buffer.alloc(5));
  });
}

describe('bundled storage-server responses', () => {
  it('carry no date header, and are otherwise a gRPC answer', async () => {
    const address = await startBundled();
    const { headers, trailers } = await rawCall(address, '/grpc.health.v1.Health/Check');
    expect(headers[':status']).toBe(200);
    expect(headers['content-type']).toBe('application/grpc+proto');
    expect(trailers['grpc-status']).toBe('0');
    expect(headers).not.toHaveProperty('date');
  });

  it('nor do the answers grpc-js gives without a handler (trailers only)', async () => {
    const address = await startBundled();
    const { headers } = await rawCall(address, '/no.such.Service/Method');
    expect(headers['grpc-status']).toBe('12');
    expect(headers).not.toHaveProperty('date');
  });
});
