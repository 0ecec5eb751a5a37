/**
 * The bundled gRPC servers answer without http2's `date` header (scripts/bundle.mjs,
 * grpcWithoutTimeZone): formatting it made V8 set up ICU's time-zone data, RSS that every node
 * kept for good (issue 17). The answer is otherwise a gRPC answer: status 200, gRPC's content type,
 * and the call's status in the trailers.
 */
import { connect, constants, type IncomingHttpHeaders } from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, startBundledStorageServer } from '../helpers/processes.js';

afterEach(cleanup);

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
    const address = await startBundledStorageServer();
    const { headers, trailers } = await rawCall(address, '/grpc.health.v1.Health/Check');
    expect(headers[':status']).toBe(200);
    expect(headers['content-type']).toBe('application/grpc+proto');
    expect(trailers['grpc-status']).toBe('0');
    expect(headers).not.toHaveProperty('date');
  });

  it('nor do the answers grpc-js gives without a handler (trailers only)', async () => {
    const address = await startBundledStorageServer();
    const { headers } = await rawCall(address, '/no.such.Service/Method');
    expect(headers['grpc-status']).toBe('12');
    expect(headers).not.toHaveProperty('date');
  });
});
