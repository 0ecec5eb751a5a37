/**
 * The real dynamic-provider host that `@pulumi/pulumi` ships (`cmd/dynamic-provider`), started as
 * the engine starts it (a Node process that prints its port on stdout) and driven over gRPC with
 * the pulumirpc client generated into the SDK. No Pulumi CLI is needed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';

const require = createRequire(import.meta.url);
const sdkDir = dirname(require.resolve('@pulumi/pulumi/package.json'));
const grpc = require(require.resolve('@grpc/grpc-js', { paths: [sdkDir] })) as typeof import('@grpc/grpc-js');
const providerGrpc = require(join(sdkDir, 'proto/provider_grpc_pb.js')) as {
  ResourceProviderClient: new (address: string, creds: unknown) => RpcClient;
};
const providerPb = require(join(sdkDir, 'proto/provider_pb.js')) as Record<string, new () => PbMessage>;
const statusPb = require(join(sdkDir, 'proto/status_pb.js')) as {
  Status: { deserializeBinary(b: Uint8Array): { getDetailsList(): { getValue_asU8(): Uint8Array }[] } };
};
const initFailedPb = providerPb as unknown as {
  ErrorResourceInitFailed: { deserializeBinary(b: Uint8Array): PbMessage };
};
const structPb = require(require.resolve('google-protobuf/google/protobuf/struct_pb.js', { paths: [sdkDir] })) as {
  Struct: { fromJavaScript(o: object): PbStruct };
};

/** The pulumirpc message objects are google-protobuf classes: setters by field name. */
interface PbMessage {
  [setter: string]: unknown;
}
interface PbStruct {
  toJavaScript(): Record<string, unknown>;
}
type Callback = (err: (Error & { code?: number; details?: string; metadata?: unknown }) | null, res: PbMessage) => void;
type RpcClient = Record<string, (req: unknown, cb: Callback) => void> & { close(): void };

/** Path of the host program inside the SDK. */
export const DYNAMIC_HOST = join(sdkDir, 'cmd/dynamic-provider/index.js');

/** `DiffResponse.DiffChanges` values. */
export const DIFF = { UNKNOWN: 0, NONE: 1, SOME: 2 } as const;

/** A create/update that failed after the resource was made: the engine keeps it with its init errors. */
export interface InitFailure {
  readonly id: string;
  readonly properties: Record<string, unknown>;
  readonly reasons: string[];
}

/** An error from the host, with the gRPC status and, for a partial failure, what was made. */
export interface HostError extends Error {
  code?: number;
  details?: string;
  initFailure?: InitFailure;
}

/** Decodes `grpc-status-details-bin` (google.rpc.Status with an ErrorResourceInitFailed), as the engine does. */
function decodeInitFailure(err: { metadata?: { get(key: string): unknown[] } }): InitFailure | undefined {
  const raw = err.metadata?.get('grpc-status-details-bin')[0];
  if (!(raw instanceof Uint8Array)) return undefined;
  const detail = statusPb.Status.deserializeBinary(raw).getDetailsList()[0];
  if (!detail) return undefined;
  const m = initFailedPb.ErrorResourceInitFailed.deserializeBinary(detail.getValue_asU8());
  return {
    id: get(m, 'getId') as string,
    properties: (get(m, 'getProperties') as PbStruct | undefined)?.toJavaScript() ?? {},
    reasons: get(m, 'getReasonsList') as string[],
  };
}

function struct(o: Record<string, unknown>): PbStruct {
  return structPb.Struct.fromJavaScript(o);
}

function message(type: string, fields: Record<string, unknown>): PbMessage {
  const Ctor = providerPb[type];
  if (!Ctor) throw new Error(`no pulumirpc message ${type}`);
  const m = new Ctor();
  for (const [field, value] of Object.entries(fields)) {
    const setter = `set${field[0]!.toUpperCase()}${field.slice(1)}`;
    const fn = m[setter];
    if (typeof fn !== 'function') throw new Error(`${type} has no ${setter}`);
    (fn as (v: unknown) => void).call(m, value);
  }
  return m;
}

function get(m: PbMessage, getter: string): unknown {
  return (m[getter] as () => unknown).call(m);
}

/** A running host and a client connected to it. */
export class DynamicHost {
  readonly #child: ChildProcess;
  readonly #client: RpcClient;
  /** What the host wrote on stderr (the host logs provider errors there). */
  stderr = '';

  private constructor(child: ChildProcess, port: number) {
    this.#child = child;
    this.#client = new providerGrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  /**
   * Starts the host in `cwd` (the engine starts it in the Pulumi project directory), waiting for
   * the port it prints on stdout.
   */
  static async start(cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<DynamicHost> {
    // The host requires an engine address argument; these calls never use it.
    const child = spawn(process.execPath, [DYNAMIC_HOST, '127.0.0.1:1'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let early = '';
    child.stderr?.on('data', (d: Buffer) => (early += d.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      const timer = setTimeout(() => reject(new Error(`dynamic host printed no port in 30 s; stderr: ${early}`)), 30_000);
      lines.once('line', (line) => {
        clearTimeout(timer);
        resolve(Number(line.trim()));
      });
      child.once('exit', (code) => reject(new Error(`dynamic host exited with ${code}: ${early}`)));
    });
    return new DynamicHost(child, port);
  }

  #call(method: string, req: PbMessage): Promise<PbMessage> {
    return new Promise((resolve, reject) => {
      this.#client[method]!(req, (err, res) => {
        if (!err) return resolve(res);
        const failure = decodeInitFailure(err as never);
        if (failure) (err as HostError).initFailure = failure;
        reject(err);
      });
    });
  }

  /** Configure, as the engine sends it first; returns whether the host accepts secrets. */
  async configure(): Promise<{ acceptSecrets: boolean }> {
    const res = await this.#call('configure', message('ConfigureRequest', { args: struct({}), acceptsecrets: true, acceptresources: true }));
    return { acceptSecrets: get(res, 'getAcceptsecrets') as boolean };
  }

  async check(urn: string, olds: Record<string, unknown>, news: Record<string, unknown>) {
    const res = await this.#call('check', message('CheckRequest', { urn, olds: struct(olds), news: struct(news) }));
    const failures = (get(res, 'getFailuresList') as PbMessage[]).map((f) => ({
      property: get(f, 'getProperty') as string,
      reason: get(f, 'getReason') as string,
    }));
    return { inputs: (get(res, 'getInputs') as PbStruct).toJavaScript(), failures };
  }

  async diff(urn: string, id: string, olds: Record<string, unknown>, news: Record<string, unknown>, oldInputs: Record<string, unknown>) {
    const res = await this.#call('diff', message('DiffRequest', { urn, id, olds: struct(olds), news: struct(news), oldInputs: struct(oldInputs) }));
    return {
      changes: get(res, 'getChanges') as number,
      replaces: get(res, 'getReplacesList') as string[],
      deleteBeforeReplace: get(res, 'getDeletebeforereplace') as boolean,
    };
  }

  async create(urn: string, properties: Record<string, unknown>, timeout = 0) {
    const res = await this.#call('create', message('CreateRequest', { urn, properties: struct(properties), timeout }));
    return { id: get(res, 'getId') as string, properties: (get(res, 'getProperties') as PbStruct).toJavaScript() };
  }

  async read(urn: string, id: string, properties: Record<string, unknown>, inputs?: Record<string, unknown>) {
    const fields: Record<string, unknown> = { urn, id, properties: struct(properties) };
    if (inputs !== undefined) fields['inputs'] = struct(inputs);
    const res = await this.#call('read', message('ReadRequest', fields));
    const inputsOut = get(res, 'getInputs') as PbStruct | undefined;
    return {
      id: get(res, 'getId') as string,
      properties: (get(res, 'getProperties') as PbStruct | undefined)?.toJavaScript() ?? {},
      inputs: inputsOut?.toJavaScript(),
    };
  }

  async update(urn: string, id: string, olds: Record<string, unknown>, news: Record<string, unknown>, oldInputs: Record<string, unknown>) {
    const res = await this.#call('update', message('UpdateRequest', { urn, id, olds: struct(olds), news: struct(news), oldInputs: struct(oldInputs) }));
    return { properties: (get(res, 'getProperties') as PbStruct).toJavaScript() };
  }

  async delete(urn: string, id: string, properties: Record<string, unknown>, oldInputs: Record<string, unknown>) {
    await this.#call('delete', message('DeleteRequest', { urn, id, properties: struct(properties), oldInputs: struct(oldInputs) }));
  }

  /** Closes the client and stops the host (it has no shutdown RPC; the engine kills it too). */
  async stop(): Promise<void> {
    this.#client.close();
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.kill('SIGTERM');
    await exited;
  }
}
