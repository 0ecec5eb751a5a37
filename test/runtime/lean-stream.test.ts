/**
 * shedStreamState reaches into grpc-js's and Node's objects (issue 17): this watches that it still
 * finds what it drops, and that the stream still works once shed.
 */
import { credentials, makeGenericClientConstructor, Metadata, Server, ServerCredentials, type ServerDuplexStream, type ServiceDefinition } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { releaseDecodedMessage, shedStreamState } from '../../runtime/master/handlers/lean-stream.js';

const identity = (b: Buffer): Buffer => b;
const definition: ServiceDefinition = {
  Chat: { path: '/test.Echo/Chat', requestStream: true, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
};

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** Serves `chat` as /test.Echo/Chat on loopback; a client of it (both closed after the test). */
async function echoClient(chat: (call: ServerDuplexStream<Buffer, Buffer>) => void): Promise<InstanceType<ReturnType<typeof makeGenericClientConstructor>>> {
  const server = new Server();
  server.addService(definition, { Chat: chat });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  closers.push(() => server.forceShutdown());
  const Client = makeGenericClientConstructor(definition, 'Echo');
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  closers.push(() => client.close());
  return client;
}

describe('shedStreamState', () => {
  it("drops the request metadata and Node's copy of the sent headers; the stream still answers and ends", async () => {
    let shed: boolean | undefined;
    let metadataLeft: number | undefined;
    let sentHeaders: unknown = 'unread';
    const client = await echoClient((call) => {
      shed = shedStreamState(call);
      metadataLeft = Object.keys(call.metadata.getMap()).length;
      sentHeaders = (call as unknown as { call: { stream: { sentHeaders: unknown } } }).call.stream.sentHeaders;
      call.on('data', (b: Buffer) => call.write(Buffer.from(`echo ${b.toString()}`)));
      call.on('end', () => call.end());
    });

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

  it("releases the decoder's hold on each handled message; later messages, bigger and smaller, still decode", async () => {
    const released: boolean[] = [];
    let held: unknown[] = [];
    const client = await echoClient((call) => {
      call.on('data', (b: Buffer) => {
        call.write(Buffer.from(`echo ${b.toString()}`));
        released.push(releaseDecodedMessage(call));
        const decoder = (call as unknown as { call: { decoder: { readCompressFlag: unknown; readPartialMessage: unknown[] } } }).call.decoder;
        held = [decoder.readCompressFlag, ...decoder.readPartialMessage];
      });
      call.on('end', () => call.end());
    });

    const call = client.makeBidiStreamRequest('/test.Echo/Chat', identity, identity, new Metadata());
    const answers: string[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on('data', (b: Buffer) => answers.push(b.toString()));
      call.on('status', () => resolve());
      call.on('error', reject);
    });
    // One at a time, as beats come: each is handled before the next arrives.
    const big = 'x'.repeat(70_000);
    for (const text of ['one', big, 'three']) {
      const answered = answers.length + 1;
      call.write(Buffer.from(text));
      while (answers.length < answered) await new Promise((r) => setTimeout(r, 5));
    }
    call.end();
    await ended;

    // THEN each message was released (the decoder keeps no slice of a received chunk)...
    expect(released).toEqual([true, true, true]);
    expect(held.every((b) => Buffer.isBuffer(b) && b.length === 1 && b[0] === 0)).toBe(true);
    // ...and every message, one spanning several frames among them, decoded whole.
    expect(answers).toEqual(['echo one', `echo ${big}`, 'echo three']);
  });

  it('leaves a decoder inside the next message, and objects grpc-js did not make, alone', () => {
    const flag = Buffer.from([0]);
    const parts = [Buffer.from('half')];
    const decoder = { readState: 2, readCompressFlag: flag, readPartialMessage: parts };
    expect(releaseDecodedMessage({ call: { nextCall: { decoder } } })).toBe(false);
    expect(decoder.readCompressFlag).toBe(flag);
    expect(decoder.readPartialMessage).toBe(parts);
    expect(releaseDecodedMessage({})).toBe(false);
    expect(releaseDecodedMessage({ call: { decoder: { readState: 0 } } })).toBe(false);
  });
});
