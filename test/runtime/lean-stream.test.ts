/**
 * shedStreamState reaches into grpc-js's and Node's objects (issue 17): this watches that it still
 * finds what it drops, and that the stream still works once shed.
 */
import { credentials, makeGenericClientConstructor, Metadata, Server, ServerCredentials, type ServerDuplexStream, type ServiceDefinition } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { shedStreamState } from '../../runtime/master/handlers/lean-stream.js';

const identity = (b: Buffer): Buffer => b;
const definition: ServiceDefinition = {
  Chat: { path: '/test.Echo/Chat', requestStream: true, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
};

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

describe('shedStreamState', () => {
  it("drops the request metadata and Node's copy of the sent headers; the stream still answers and ends", async () => {
    let shed: boolean | undefined;
    let metadataLeft: number | undefined;
    let sentHeaders: unknown = 'unread';
    const server = new Server();
    server.addService(definition, {
      Chat(call: ServerDuplexStream<Buffer, Buffer>) {
        shed = shedStreamState(call);
        metadataLeft = Object.keys(call.metadata.getMap()).length;
        sentHeaders = (call as unknown as { call: { stream: { sentHeaders: unknown } } }).call.stream.sentHeaders;
        call.on('data', (b: Buffer) => call.write(Buffer.from(`echo ${b.toString()}`)));
        call.on('end', () => call.end());
      },
    });
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    closers.push(() => server.forceShutdown());
    const Client = makeGenericClientConstructor(definition, 'Echo');
    const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
    closers.push(() => client.close());

    const md = new Metadata();
    md.set('x-caller', 'agent-1');
    const call = client.makeBidiStreamRequest('/test.Echo/Chat', identity, identity, md);
    const headers = new Promise<Metadata>((resolve) => call.once('metadata', resolve));
    const answers: string[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on('data', (b: Buffer) => answers.push(b.toString()));
      call.on('status', () => resolve());
      call.on('error', reject);
    });
    call.write(Buffer.from('one'));
    call.write(Buffer.from('two'));
    call.end();
    await ended;

    // THEN the internals were found and shed...
    expect(shed).toBe(true);
    expect(metadataLeft).toBe(0);
    expect(sentHeaders).toBeUndefined();
    // ...and the client saw the headers, both answers in order, and an OK end.
    expect((await headers).get('content-type')).toEqual(['application/grpc+proto']);
    expect(answers).toEqual(['echo one', 'echo two']);
  });
});
