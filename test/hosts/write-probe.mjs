// A write probe run inside a test host's namespace (issue 14): writes to one storage node over
// mutual TLS, one write at a time every 25 ms, until SIGTERM, and prints one JSON line per write:
// {id, ok, atMs} (atMs: the node's own acceptance stamp, read back at once) or {id, ok, code, details}.
// Usage: node write-probe.mjs ADDRESS TLS_DIR PREFIX. Runs against dist/ (build first).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StorageServiceClient } from '../../dist/proto/gen/sutra/grid/v1/storage.pb.js';
import { TlsSource, tlsChannelCredentials, TLS_CHANNEL_OPTIONS } from '../../dist/client/transport.js';

const [address, dir, prefix] = process.argv.slice(2);
const read = (n) => readFileSync(join(dir, n), 'utf8');
const source = new TlsSource({ caPem: read('ca.pem'), certPem: read('cert.pem'), keyPem: read('key.pem') });
const client = new StorageServiceClient(address, tlsChannelCredentials(source, { role: 'node' }), TLS_CHANNEL_OPTIONS);
let stopped = false;
process.on('SIGTERM', () => (stopped = true));

const call = (method, req) =>
  new Promise((resolve) => method.call(client, req, { deadline: Date.now() + 8000 }, (err, res) => resolve(err ? { err } : { res })));

process.stdout.write('probe started\n');
for (let i = 0; !stopped; i++) {
  const id = `${prefix}${i}`;
  const w = await call(client.learnConcept, { id, content: `accepted by ${address}`, attributes: {} });
  if (w.err === undefined) {
    const q = await call(client.queryConcept, { id });
    process.stdout.write(`${JSON.stringify({ id, ok: true, atMs: Number(q.res?.concept?.updatedAtMs ?? 0) })}\n`);
  } else {
    process.stdout.write(`${JSON.stringify({ id, ok: false, code: w.err.code, details: w.err.details, atMs: Date.now() })}\n`);
  }
  await new Promise((r) => setTimeout(r, 25));
}
client.close();
