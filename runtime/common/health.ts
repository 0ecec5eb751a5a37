import {
  makeGenericClientConstructor,
  status as GrpcStatus,
  type Server,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';

/**
 * The standard gRPC health service (grpc.health.v1.Health: Check, Watch, List) with hand-written
 * codecs. It replaces `grpc-health-check`, whose proto-loader/protobufjs import cost ~100 ms at
 * every start: too much for the storage-server, which agents spawn once per node.
 * Wire-compatible with every standard health client (grpc_health_probe, grpc-js, k8s probes).
 */

export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

const STATUS_NUM: Record<ServingStatus, number> = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 };
const STATUS_NAME: readonly ServingStatus[] = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

export interface HealthCheckRequest {
  readonly service: string;
}
export interface HealthCheckResponse {
  readonly status: ServingStatus;
}
interface HealthListResponse {
  readonly statuses: ReadonlyMap<string, ServingStatus>;
}

function encodeRequest(req: HealthCheckRequest): Buffer {
  const w = new BinaryWriter();
  if (req.service !== '') w.uint32(10).string(req.service);
  return Buffer.from(w.finish());
}

function decodeRequest(buf: Buffer): HealthCheckRequest {
  const r = new BinaryReader(buf);
  let service = '';
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag === 10) service = r.string();
    else r.skip(tag & 7);
  }
  return { service };
}

function writeStatus(w: BinaryWriter, status: ServingStatus): BinaryWriter {
  return status === 'UNKNOWN' ? w : w.uint32(8).int32(STATUS_NUM[status]);
}

function encodeResponse(res: HealthCheckResponse): Buffer {
  return Buffer.from(writeStatus(new BinaryWriter(), res.status).finish());
}

function decodeResponse(buf: Buffer): HealthCheckResponse {
  const r = new BinaryReader(buf);
  let status: ServingStatus = 'UNKNOWN';
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag === 8) status = STATUS_NAME[r.int32()] ?? 'UNKNOWN';
    else r.skip(tag & 7);
  }
  return { status };
}

function encodeList(res: HealthListResponse): Buffer {
  const w = new BinaryWriter();
  for (const [service, status] of res.statuses) {
    // map<string, HealthCheckResponse> statuses = 1: each entry is a nested {key = 1, value = 2}.
    w.uint32(10).fork();
    w.uint32(10).string(service);
    w.uint32(18).fork();
    writeStatus(w, status);
    w.join();
    w.join();
  }
  return Buffer.from(w.finish());
}

const identity = <T>(x: T): T => x;

/** grpc.health.v1.Health service definition (hand-coded codecs). */
export const HealthServiceDefinition = {
  check: {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false,
    responseStream: false,
    requestSerialize: encodeRequest,
    requestDeserialize: decodeRequest,
    responseSerialize: encodeResponse,
    responseDeserialize: decodeResponse,
    originalName: 'Check',
  },
  watch: {
    path: '/grpc.health.v1.Health/Watch',
    requestStream: false,
    responseStream: true,
    requestSerialize: encodeRequest,
    requestDeserialize: decodeRequest,
    responseSerialize: encodeResponse,
    responseDeserialize: decodeResponse,
    originalName: 'Watch',
  },
  list: {
    path: '/grpc.health.v1.Health/List',
    requestStream: false,
    responseStream: false,
    requestSerialize: (_: Record<string, never>) => Buffer.alloc(0),
    requestDeserialize: (_: Buffer) => ({}),
    responseSerialize: encodeList,
    responseDeserialize: identity,
    originalName: 'List',
  },
} satisfies ServiceDefinition;

/** A grpc-js client for the health service: `new HealthClient(addr, creds).check({service: ''}, cb)`. */
export const HealthClient = makeGenericClientConstructor(HealthServiceDefinition, 'grpc.health.v1.Health');

/** Serving status per service name ('' = the whole server); Check/Watch/List as the standard says. */
export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>();
  /** The open Watch streams of each service. */
  private readonly watchers = new Map<string, Set<ServerWritableStream<HealthCheckRequest, HealthCheckResponse>>>();

  constructor(initial: Readonly<Record<string, ServingStatus>> = {}) {
    for (const [service, status] of Object.entries(initial)) this.statuses.set(service, status);
  }

  /** Sets a service's status and tells its watchers. */
  setStatus(service: string, status: ServingStatus): void {
    this.statuses.set(service, status);
    for (const call of this.watchers.get(service) ?? []) call.write({ status });
  }

  /**
   * Sets every service NOT_SERVING, tells the watchers, then ends their streams. For a server
   * that shuts down: a Watch never ends by itself, and tryShutdown waits for every open call, so a
   * watcher (an agent watching its node) would hold the whole drain time.
   */
  shutdown(): void {
    for (const service of this.statuses.keys()) this.setStatus(service, 'NOT_SERVING');
    for (const calls of this.watchers.values()) for (const call of calls) call.end();
    this.watchers.clear();
  }

  /** Adds the health service to `server`. */
  addToServer(server: Server): void {
    server.addService(HealthServiceDefinition, {
      check: (call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, cb: sendUnaryData<HealthCheckResponse>) => {
        const status = this.statuses.get(call.request.service);
        if (status === undefined) {
          cb({ code: GrpcStatus.NOT_FOUND, details: `health status unknown for service "${call.request.service}"` });
        } else cb(null, { status });
      },
      watch: (call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => {
        const service = call.request.service;
        let calls = this.watchers.get(service);
        if (calls === undefined) this.watchers.set(service, (calls = new Set()));
        calls.add(call);
        call.on('cancelled', () => this.watchers.get(service)?.delete(call));
        call.write({ status: this.statuses.get(service) ?? 'SERVICE_UNKNOWN' });
      },
      list: (_call: ServerUnaryCall<unknown, HealthListResponse>, cb: sendUnaryData<HealthListResponse>) => {
        cb(null, { statuses: new Map(this.statuses) });
      },
    });
  }
}
