import { resolve } from 'node:path';
import { checkBindPolicy, startGrpcServer, type GrpcServerHandle } from '../common/grpc-server.js';
import { ConceptStore } from './concept-store.js';
import { ReplicationNode } from './replication-node.js';
import { STANDALONE } from './replication-options.js';
import { createStorageServices } from './storage-service.js';
import { gridGuard } from '../common/call-guard.js';
import { NodeTlsFiles, PLAINTEXT_DIALER } from './node-tls.js';
import { DEFAULT_DRAIN_MS, type StorageServerOptions } from './storage-options.js';

/** Lifecycle of a storage server. */
export type StorageServerState = 'starting' | 'running' | 'draining' | 'stopped';

/**
 * The bundled storage-server: StorageService over a durable ConceptStore, StorageControl and
 * StorageReplication over its ReplicationNode (role, term, leader), plus the standard gRPC health
 * service (SERVING once the log is replayed and the port bound).
 */
export class StorageServer {
  private stateValue: StorageServerState = 'running';
  private stopping: Promise<void> | undefined;
  private readonly done: Promise<void>;
  private resolveDone!: () => void;

  private constructor(
    private readonly grpc: GrpcServerHandle,
    private readonly store: ConceptStore,
    private readonly node: ReplicationNode,
    /** Bytes of a torn log tail cut off at start (0 when clean). */
    readonly truncatedBytes: number,
    private readonly drainMs: number,
    private readonly tls: NodeTlsFiles | undefined,
  ) {
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  /** Replays the store, then binds; resolves once the server is serving. */
  static async start(opts: StorageServerOptions): Promise<StorageServer> {
    const log = opts.log ?? (() => undefined);
    // With a credential, every caller needs a certificate of the grid CA; the node may then listen beyond loopback.
    const tls = opts.tlsDir !== undefined ? NodeTlsFiles.open(resolve(opts.tlsDir), log) : undefined;
    checkBindPolicy(`${opts.host}:${opts.port}`, opts.token, '--host', tls !== undefined);
    const storagePath = resolve(opts.storagePath);
    const { store, truncatedBytes } = await ConceptStore.open(storagePath, opts.memoryMb);
    try {
      const dialer = tls?.dialer() ?? PLAINTEXT_DIALER;
      const node = await ReplicationNode.open(store, storagePath, opts.replication ?? STANDALONE, { token: opts.token, dialer, log });
      const auth = tls === undefined ? opts.token : gridGuard({ token: opts.token, tls: true, onlyAgent: opts.agentId, isRevoked: (serial) => tls.isRevoked(serial) });
      const serverTls = tls === undefined ? undefined : { source: tls.source, requireClientCert: true };
      const grpc = await startGrpcServer(`${opts.host}:${opts.port}`, createStorageServices(store, node, auth), opts.token, serverTls);
      tls?.watch();
      await node.start(grpc.address);
      return new StorageServer(grpc, store, node, truncatedBytes, opts.drainMs ?? DEFAULT_DRAIN_MS, tls);
    } catch (err) {
      tls?.close();
      await store.close();
      throw err;
    }
  }

  get state(): StorageServerState {
    return this.stateValue;
  }

  /** host:port actually bound. */
  get address(): string {
    return this.grpc.address;
  }

  get port(): number {
    return this.grpc.port;
  }

  get conceptCount(): number {
    return this.store.conceptCount;
  }

  /**
   * Resolves once the server has stopped and its log is closed. A connection to a stalled peer may
   * outlive it (HTTP/2 waits for the peer to close its side), so an entry point exits once this
   * resolves rather than waiting for the event loop to empty.
   */
  run(): Promise<void> {
    return this.done;
  }

  /**
   * Stops accepting calls, gives in-flight ones `drainMs` to finish (tryShutdown), then cuts the
   * remaining connections (forceShutdown) and flushes the log. Bounded whatever clients do: a
   * paused client holding a stream must not keep the node's stop waiting for the agent's SIGKILL.
   * Idempotent.
   */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      this.stateValue = 'draining';
      try {
        // Replication streams never end by themselves: close them first, so the drain is for calls.
        await this.node.stop();
        await this.grpc.close(this.drainMs);
        await this.store.close();
      } finally {
        this.tls?.close();
        this.stateValue = 'stopped';
        this.resolveDone();
      }
    })();
    return this.stopping;
  }
}
