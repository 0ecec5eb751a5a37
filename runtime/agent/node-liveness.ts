/**
 * A node's health as its supervisor watches it: from launch until its own listener answers SERVING
 * (the start, by Check), then every health-check interval while it runs (liveness, by Watch),
 * killing a node that fails several intervals in a row so the restart policy takes over.
 */
import { sleep } from '../../client/transport.js';
import type { Logger } from '../common/logger.js';
import { HealthProbe } from './health-probe.js';
import { HealthWatch } from './health-watch.js';
import type { NodePlatform } from './platform.js';
import type { NodeRecord } from './node-record.js';
import type { SupervisorOptions } from './node-types.js';

/** Liveness probes that may fail in a row before a running node is killed and restarted. */
const LIVENESS_FAILURES = 3;
/**
 * Health checks while a node that gives a readiness notification has not given it yet: one every
 * this often, so a node whose word is lost (it could not write it) is still found serving, at
 * the cost of this delay and not of a check every startup probe interval.
 */
const UNNOTIFIED_CHECK_MS = 1000;

/**
 * Polls the node's health until SERVING from the node's own listener: while another process holds
 * the port (another agent's node that won the bind), its SERVING must not make this node running.
 * Platforms that cannot tell who listens (no `listensOn`) are trusted on the health check alone.
 * With `ready` (the node's readiness notification), the polling starts once the node says it
 * serves, with one check every {@link UNNOTIFIED_CHECK_MS} until then: each check before the node
 * listens is a refused connection and an error (~10 per node at 10 ms, most of an agent's CPU in
 * a large apply), and the first check after the word usually passes. The check decides either way.
 * Resolves false when the start timeout passes first; rejects when `signal` aborts.
 */
export async function waitOwnServing(r: NodeRecord, platform: NodePlatform, opts: SupervisorOptions, signal: AbortSignal, ready?: Promise<void>): Promise<boolean> {
  const end = r.launchedAt + opts.startTimeoutMs;
  const interval = opts.startupProbeIntervalMs;
  const own = (): boolean => platform.listensOn?.(r.spec.nodeId, r.spec.port) !== false;
  let notified = ready === undefined;
  void ready?.then(() => (notified = true));
  for (;;) {
    const left = end - Date.now();
    if (left <= 0) return false;
    if (!notified) {
      await untilReady(ready!, Math.min(UNNOTIFIED_CHECK_MS, left), signal);
      if (!notified && (await r.probe!.check(Math.max(50, Math.min(1000, end - Date.now())))) && own()) return true;
      signal.throwIfAborted();
      continue;
    }
    if (!(await r.probe!.waitServing(interval, left, signal))) return false;
    if (own()) return true;
    // Reading /proc costs more than a health check: look again a little later.
    await sleep(Math.max(interval, 50), signal);
  }
}

/** Resolves when `ready` does or after `ms`; rejects when `signal` aborts. */
async function untilReady(ready: Promise<void>, ms: number, signal: AbortSignal): Promise<void> {
  const timer = new AbortController();
  const onAbort = (): void => timer.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await Promise.race([ready, sleep(ms, timer.signal)]);
  } finally {
    signal.removeEventListener('abort', onAbort);
    timer.abort();
  }
  signal.throwIfAborted();
}

/**
 * Reads a running node's health every health-check interval until the run ends (`ac` aborts),
 * from its Watch stream (health-watch.ts); after {@link LIVENESS_FAILURES} intervals in a row not
 * serving, kills it once: its exit event takes it from there (a crash, then the restart policy).
 */
export function startLiveness(r: NodeRecord, ac: AbortController, platform: NodePlatform, opts: SupervisorOptions, logger: Logger): void {
  const health = new HealthWatch(r.probe!, HealthProbe.pingTimeoutMs(opts.healthCheckIntervalMs));
  ac.signal.addEventListener('abort', () => health.close(), { once: true });
  let failures = 0;
  let busy = false;
  r.liveness = setInterval(() => {
    if (busy || ac.signal.aborted) return;
    busy = true;
    void health.serving().then((ok) => {
      busy = false;
      if (ac.signal.aborted || r.status !== 'running') return;
      failures = ok ? 0 : failures + 1;
      if (failures >= LIVENESS_FAILURES) {
        clearInterval(r.liveness);
        r.killReason = `unhealthy: ${failures} failed health checks`;
        logger.warn({ nodeId: r.spec.nodeId, pid: r.pid }, 'node failed its health checks; killing it to restart');
        void platform.stop(r.spec.nodeId, 0);
      }
    });
  }, opts.healthCheckIntervalMs);
  r.liveness.unref();
}
