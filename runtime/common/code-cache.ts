import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script, constants } from 'node:vm';

/**
 * Runs a CommonJS bundle through V8's code cache: the storage-server's, the agent's and the CLI's
 * client verbs' (scripts/bundle.mjs). Node 20 has no module compile cache, and most of such a
 * process's start-up is V8 parsing and compiling its ~400-550 KB bundle (grpc-js, http2, the
 * generated protobuf code), not running it. Each cache is written at build time after a warm run
 * (scripts/storage-code-cache.mjs, agent-code-cache.mjs, cli-code-cache.mjs), so it holds the
 * functions a start actually compiles, not only the top level; a start then deserializes them
 * instead of compiling.
 *
 * The cache is only ever read here, from the build output beside the bundle (never from a node's
 * data dir). A missing, unreadable, stale or rejected cache only costs the compile it would have
 * saved: V8 rejects a cache of another V8 version or other flags (`cachedDataRejected`). V8 checks
 * neither the source (only its length) nor, in release builds, its own checksum: a bundle rebuilt
 * to the same length would run another build's code, and a flipped byte aborts the process inside
 * the deserializer. So the cache file starts with the SHA-256 of the source and V8's data together,
 * and data that does not match it is never handed to V8.
 */

/** Bytes of the digest (of source and data) in front of V8's data in a cache file. */
const DIGEST_BYTES = 32;

/** A compiled bundle, ready to run once as the CommonJS module at `file`. */
export interface CompiledBundle {
  readonly script: Script;
  /** True when a cache was given and V8 used it. */
  readonly cacheAccepted: boolean;
  /** Runs the bundle as Node runs a CommonJS module (its own `require`, `module`, `__filename`). */
  run(): void;
  /** The cache file's contents for this source: digest, then V8's data (the functions compiled so far included). */
  createCache(): Buffer;
}

/** Of the source's bytes, not its string: hashing a string encodes a copy of it first (~5 ms a start). */
function digest(source: Buffer, data: Buffer): Buffer {
  return createHash('sha256').update(source).update(data).digest();
}

/**
 * The function Node wraps a CommonJS module in. scripts/bundle.mjs writes it around the bundle
 * (BUNDLE_WRAPPER_HEAD and _TAIL as esbuild's banner and footer), so the file read is the script
 * compiled: wrapping here would hold a second copy of the ~400 KB source in the heap for good.
 */
export const BUNDLE_WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname) {';
/** The end of {@link BUNDLE_WRAPPER_HEAD}'s function: on a line of its own, after any trailing comment. */
export const BUNDLE_WRAPPER_TAIL = '\n})';

/** The script to compile for CommonJS `source`: the source itself when it is wrapped already. */
function wrapped(source: string): string {
  if (source.startsWith(BUNDLE_WRAPPER_HEAD)) return source;
  // A hashbang is valid only at the very start of a script: inside the wrapper it becomes a comment.
  const body = source.startsWith('#!') ? `//${source.slice(2)}` : source;
  return `${BUNDLE_WRAPPER_HEAD}${body}${BUNDLE_WRAPPER_TAIL}`;
}

/**
 * Compiles `source` with V8's data from `cache` when its digest matches. Its own function, so that
 * nothing the caller keeps (the bundle's closures) holds the cache file's buffer: it is garbage
 * once V8 has read it.
 */
function compile(file: string, bytes: Buffer, source: string, cache: Buffer | undefined): Script {
  const data = cache?.subarray(DIGEST_BYTES);
  const usable = cache !== undefined && data !== undefined && data.length > 0 && digest(bytes, data).equals(cache.subarray(0, DIGEST_BYTES));
  const script = new Script(wrapped(source), {
    filename: file,
    cachedData: usable ? data : undefined,
    // An import() in the bundle resolves as in any module of this process (none is there today).
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  release(cache);
  return script;
}

/**
 * Hands the memory of `buffer` (a file read whole: the cache, the source's bytes) back now.
 * Compiling promotes it to V8's old generation, where it would stay until the first full
 * collection, which an idle process may never run: ~400 KB of every node's idle RSS. Moving the memory to a fresh, unreferenced
 * ArrayBuffer (transferring detaches the original) lets the next minor collection free it.
 */
function release(buffer: Buffer | undefined): void {
  if (buffer === undefined || buffer.byteOffset !== 0 || buffer.byteLength !== buffer.buffer.byteLength) return;
  const memory = buffer.buffer as ArrayBuffer;
  structuredClone(memory, { transfer: [memory] });
}

/**
 * Compiles the CommonJS file `file`, with V8's data from `cache` (a cache file's contents) when its
 * digest matches the source and the data. The wrapper is Node's own, so the code behaves as under `require`.
 */
export function compileBundle(file: string, cache?: Buffer): CompiledBundle {
  const bytes = readFileSync(file);
  const source = bytes.toString('utf8');
  const script = compile(file, bytes, source, cache);
  release(bytes);
  return {
    script,
    cacheAccepted: script.cachedDataRejected === false,
    run() {
      const module = { exports: {} as unknown, filename: file, id: file, loaded: false };
      const wrapper = script.runInThisContext() as (e: unknown, r: NodeJS.Require, m: unknown, f: string, d: string) => void;
      wrapper(module.exports, createRequire(file), module, file, dirname(file));
      module.loaded = true;
    },
    createCache() {
      const fresh = script.createCachedData();
      return Buffer.concat([digest(Buffer.from(source, 'utf8'), fresh), fresh]);
    },
  };
}

/** Reads `cacheFile` if it is there and readable; no cache otherwise. */
function readCache(cacheFile: string): Buffer | undefined {
  try {
    return readFileSync(cacheFile);
  } catch {
    return undefined;
  }
}

/** Runs the CommonJS bundle `file` with the code cache in `cacheFile` when it is there and fits. */
export function runBundle(file: string, cacheFile: string): void {
  compileBundle(file, readCache(cacheFile)).run();
}
