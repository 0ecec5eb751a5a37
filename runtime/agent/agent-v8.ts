import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings of the bundled agent (runtime/agent/bundle-main.ts), for its idle RSS (issue 17):
 * - `--max-opt=0`: the interpreter only, no compiled tier. The supervision of each node still made
 *   some functions hot enough for TurboFan, whose compiler then paged ~4 MB of the node binary into
 *   the agent for good (an agent at 8 nodes: 59.7 MB, 55.3 MB without TurboFan, 53.1 MB without
 *   Sparkplug either). An agent's code waits on I/O: its CPU time per node spawned and stopped
 *   stayed ~10 ms, its spawn time the same.
 * - `--semi-space-growth-factor=1`: the young generation stays at the size V8 starts it with
 *   (2 MiB here) instead of doubling as start-up's survivors fill it; every page of it is touched
 *   in turn by scavenges, so its size is RSS.
 * - `--optimize-for-size`: the old generation grows by 2 MB steps between full collections. Idle,
 *   an agent still works a little (each node's health check every 10 s, a heartbeat every 5 s:
 *   ~35 KB/s at four nodes), and each scavenge promotes some of it. Without the flag V8 let the old
 *   generation grow 8 MB past what the last collection left before collecting it again, and
 *   nothing else collects it (V8's memory reducer stops after its first collections, at start-up):
 *   an idle agent with four nodes went from 49 to 57 MB in 20 minutes. With it, 48.7-51.7 MB, a
 *   full collection every few minutes (~5 ms at this heap size). Not for the storage-server: there
 *   it cost ~25% of the writes per second at 16 calls in flight (BENCHMARKS.md, issue 17).
 */
export const AGENT_V8_FLAGS = '--max-opt=0 --semi-space-growth-factor=1 --optimize-for-size';

/**
 * The Node built-in modules the agent's body loads (at its start, or Node itself for it: `net`
 * loads `cluster` on listen). Node compiles its built-ins from a code cache of its own that V8
 * accepts only under the flags it was built with: a built-in loaded after {@link AGENT_V8_FLAGS}
 * compiles from source (~1.5 MB more for these). So they are loaded first. One missed, or one of
 * a later release, only compiles from source. `zlib` and `worker_threads` are left out: the body
 * loads them only if used (scripts/bundle.mjs), which an agent does not.
 */
export const AGENT_BUILTINS: readonly string[] = [
  'assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'diagnostics_channel', 'dns', 'dns/promises', 'events', 'fs',
  'fs/promises', 'http', 'http2', 'module', 'net', 'os', 'path', 'process', 'stream', 'tls', 'tty', 'url', 'util',
];

/**
 * Loads {@link AGENT_BUILTINS} with `load` (a CommonJS require), then sets {@link AGENT_V8_FLAGS}.
 * Call it after compiling the body from its code cache (whose flags must be V8's defaults, as when
 * scripts/agent-code-cache.mjs wrote it) and before running it. Process-wide and for good: only
 * the bundled agent's own process calls it.
 */
export function tuneAgentV8(load: (id: string) => unknown): void {
  for (const id of AGENT_BUILTINS) load(`node:${id}`);
  setFlagsFromString(AGENT_V8_FLAGS);
}
