/**
 * Monotonic milliseconds for the agent's leases and heartbeats: what performance.now() gives, from
 * process.hrtime instead. Importing node:perf_hooks (or reading the global `performance`) loads
 * Node's worker_threads and perf internals along with it, ~0.3 MB of an idle agent's RSS for a
 * clock (issue 17). The origin is arbitrary: only differences of two readings mean anything, and
 * every reading the agent compares comes from here.
 */
export function monotonicMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1000 + ns / 1e6;
}
