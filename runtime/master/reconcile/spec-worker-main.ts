/**
 * Entry of the master's spec worker thread (started by spec-worker.ts): runs one
 * {@link SpecJob} per message and answers with its result or its error, as plain data.
 */
import { parentPort } from 'node:worker_threads';
import { runSpecJob, serializeError, type SpecJob } from './spec-job.js';

/** A job as the master posts it. */
interface JobMessage {
  readonly id: number;
  readonly job: SpecJob;
}

const port = parentPort;
if (port === null) throw new Error('spec-worker-main.js runs only as a worker thread (see spec-worker.ts)');
port.on('message', (msg: JobMessage) => {
  try {
    port.postMessage({ id: msg.id, ok: true, result: runSpecJob(msg.job) });
  } catch (err) {
    port.postMessage({ id: msg.id, ok: false, error: serializeError(err) });
  }
});
