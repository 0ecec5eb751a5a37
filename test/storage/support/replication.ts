/**
 * Helpers of the replication tests: start storage-server processes in a role, and promise-style
 * StorageControl / StorageReplication clients.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import {
  StorageControlClient,
  StorageReplicationClient,
  StorageRole,
  WriteDurability,
  type ReplicateRequest,
  type ReplicateResponse,
  type ReplicationStatus,
} from '../../../proto/gen/sutra/grid/v1/storage.pb.js';
import { afterEach } from 'vitest';
import { unary } from '../../../client/index.js';
import { eventually, startDaemon, tempDir, type DaemonProcess } from '../../helpers/processes.js';
import { TestStorageClient } from '../../helpers/storage-client.js';

export { StorageRole, WriteDurability };

/** A storage-server process with its storage path and flags (to restart it the same way). */
export interface StorageNode {
  readonly proc: DaemonProcess;
  readonly address: string;
  readonly path: string;
  readonly args: readonly string[];
}

/** Starts `sutra-grid storage-server --port 0 --storage-path PATH ...args` (a fresh path unless given). */
export async function startNode(args: readonly string[], path = join(tempDir('repl-'), 'node')): Promise<StorageNode> {
  const proc = await startDaemon('storage-server', ['storage-server', '--port', '0', '--storage-path', path, ...args]);
  return { proc, address: proc.address, path, args };
}

/** Starts it again on the same storage path and flags (a new port: port 0). */
export function restartNode(node: StorageNode, args: readonly string[] = node.args): Promise<StorageNode> {
  return startNode(args, node.path);
}

/** A leader's flags. */
export function leaderArgs(id: string, term = 1, extra: readonly string[] = []): string[] {
  return ['--role', 'leader', '--node-id', id, '--term', String(term), ...extra];
}

/** A replica's flags. */
export function replicaArgs(id: string, leader: string, term = 1, extra: readonly string[] = []): string[] {
  return ['--role', 'replica', '--node-id', id, '--leader', leader, '--term', String(term), ...extra];
}

/** The store.log bytes of a node: replicas hold their leader's records byte for byte. */
export function logBytes(node: StorageNode): Buffer {
  return readFileSync(join(node.path, 'store.log'));
}

/** StorageControl and StorageReplication, promise style. */
export class ReplicationClient {
  private readonly control: StorageControlClient;
  private readonly replication: StorageReplicationClient;
  readonly data: TestStorageClient;

  constructor(readonly address: string) {
    this.control = new StorageControlClient(address, credentials.createInsecure());
    this.replication = new StorageReplicationClient(address, credentials.createInsecure());
    this.data = new TestStorageClient(address);
  }

  async setRole(role: StorageRole, term: number, leader = '', durability = WriteDurability.WRITE_DURABILITY_UNSPECIFIED, syncQuorum = 0, handOverMs = 0): Promise<ReplicationStatus> {
    const res = await unary(this.control.setRole, this.control, { role, leader, term, durability, syncQuorum, handOverMs }, undefined, 10_000);
    return res.status!;
  }

  /** RenewLease; `deadlineMs` bounds the call (the node cuts the lease to it). @returns the lease granted */
  async renewLease(term: number, leaseMs: number, deadlineMs = leaseMs + 10_000): Promise<number> {
    return (await unary(this.control.renewLease, this.control, { term, leaseMs }, undefined, deadlineMs)).leaseMs;
  }

  async status(): Promise<ReplicationStatus> {
    return (await unary(this.control.getReplicationStatus, this.control, {}, undefined, 10_000)).status!;
  }

  ack(replicaId: string, term: number, position: number, copy = ''): Promise<{ term: number }> {
    return unary(this.replication.ackReplication, this.replication, { replicaId, copy, term, position }, undefined, 10_000);
  }

  /** Opens a Replicate stream and returns its first message, or the error it ends with. */
  firstReplicateMessage(req: ReplicateRequest): Promise<ReplicateResponse> {
    const call = this.replication.replicate(req);
    return new Promise<ReplicateResponse>((resolve, reject) => {
      call.on('error', reject);
      call.once('data', (m: ReplicateResponse) => {
        resolve(m);
        call.cancel();
      });
    });
  }

  close(): void {
    this.control.close();
    this.replication.close();
    this.data.close();
  }
}

/** Writes concepts `${prefix}0..n-1` with `concurrency` calls in flight; resolves with the ids acknowledged. */
export async function writeConcepts(client: TestStorageClient, prefix: string, n: number, concurrency = 32): Promise<string[]> {
  const acked: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      await client.learnConcept(`${prefix}${i}`, `value ${prefix}${i}`, { i: String(i) });
      acked.push(`${prefix}${i}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return acked;
}

/** Ids of `ids` the node does not serve. */
export async function missingOn(client: TestStorageClient, ids: readonly string[]): Promise<string[]> {
  const found = await Promise.all(ids.map(async (id) => ((await client.queryConcept(id)).found ? undefined : id)));
  return found.filter((id): id is string => id !== undefined);
}


/** A client factory for one test file: every client it made is closed after each test. */
export function replicationClients(): (address: string) => ReplicationClient {
  const open: ReplicationClient[] = [];
  afterEach(() => {
    for (const c of open.splice(0)) c.close();
  });
  return (address) => {
    const c = new ReplicationClient(address);
    open.push(c);
    return c;
  };
}

/** Waits until the node's durable log holds `position` records. The timeout is the lag bound. */
export async function atPosition(c: ReplicationClient, position: number, timeoutMs = 20_000): Promise<void> {
  await eventually(async () => {
    const s = await c.status();
    if (s.logPosition !== position) throw new Error(`${c.address} at ${s.logPosition}, waiting for ${position}`);
    return true;
  }, timeoutMs);
}
