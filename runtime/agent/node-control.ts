/**
 * The agent's calls to one node's StorageControl (a wire edge): GetReplicationStatus with the
 * health checks, SetRole for ConfigureNode, RenewLease after the master's answers. Answers are converted to domain values here; every call
 * has a deadline, so a hung node costs the caller that long and no more.
 */
import { StorageControlClient, StorageRole, WriteDurability, type ReplicationStatus } from '../../proto/gen/sutra/grid/v1/storage.pb.js';
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import { clientChannelOptions, insecureCredentials, unary } from '../../client/transport.js';
import type { NodeReplication } from '../common/grid-types.js';

/** A node's replication as it answered, before the agent stamps and latches it. */
export type ReplicationAnswer = Omit<NodeReplication, 'readAtMs' | 'leaseUnconfirmed'>;

/** A SetRole as the agent relays it. */
export interface RoleChange {
  readonly role: 'leader' | 'replica';
  readonly leader: string;
  readonly term: number;
  /** '' keeps the node's setting. */
  readonly durability: string;
  /** 0 keeps the node's quorum. */
  readonly syncQuorum: number;
  /** A leader handing over within its term refuses writes this long (ms); 0: none. */
  readonly handOverMs?: number;
}

const ROLE_NAME: Partial<Record<StorageRole, string>> = {
  [StorageRole.STORAGE_ROLE_STANDALONE]: 'standalone',
  [StorageRole.STORAGE_ROLE_LEADER]: 'leader',
  [StorageRole.STORAGE_ROLE_REPLICA]: 'replica',
};
const DURABILITY_NAME: Partial<Record<WriteDurability, string>> = { [WriteDurability.WRITE_DURABILITY_ASYNC]: 'async', [WriteDurability.WRITE_DURABILITY_SYNC]: 'sync' };
const WIRE_DURABILITY: Record<string, WriteDurability> = { async: WriteDurability.WRITE_DURABILITY_ASYNC, sync: WriteDurability.WRITE_DURABILITY_SYNC };

function fromWire(s: ReplicationStatus | undefined): ReplicationAnswer {
  if (s === undefined) throw new Error('the node answered without a replication status');
  return {
    role: ROLE_NAME[s.role] ?? '',
    term: s.term,
    leader: s.leader,
    durability: DURABILITY_NAME[s.durability] ?? '',
    syncQuorum: s.syncQuorum,
    logPosition: s.logPosition,
    lastLogTerm: s.lastLogTerm,
    leaderLogPosition: s.leaderLogPosition,
    catchingUp: s.catchingUp,
    connected: s.connected,
  };
}

/** StorageControl of one node, at `address` (the node's local address). */
export class NodeControl {
  private readonly client: StorageControlClient;

  /** The version of the agent's certificate this channel was opened with (0: plaintext). */
  readonly tlsVersion: number;

  /** A node restarting on the same port must be reachable again within a poll or two. */
  static readonly CHANNEL_OPTIONS: ChannelOptions = { 'grpc.max_reconnect_backoff_ms': 500, 'grpc.use_local_subchannel_pool': 1 };

  /**
   * `token`: what the node checks on calls (the node token), or undefined for a tokenless node;
   * `tls`: the channel of a node under mutual TLS (the agent's certificate), plaintext without.
   */
  constructor(
    readonly address: string,
    private readonly token: string | undefined,
    tls?: { credentials: ChannelCredentials; options: ChannelOptions; version?: number },
  ) {
    this.tlsVersion = tls?.version ?? 0;
    this.client = new StorageControlClient(address, tls?.credentials ?? insecureCredentials, tls?.options ?? clientChannelOptions(NodeControl.CHANNEL_OPTIONS));
  }

  /** GetReplicationStatus. Rejects with the call's gRPC error (DEADLINE_EXCEEDED for a hung node). */
  async status(timeoutMs: number): Promise<ReplicationAnswer> {
    const c = this.client;
    return fromWire((await unary(c.getReplicationStatus, c, {}, this.token, timeoutMs)).status);
  }

  /** SetRole. Rejects with the node's refusal (FAILED_PRECONDITION for a stale term) or the call's error. */
  async setRole(change: RoleChange, timeoutMs: number): Promise<ReplicationAnswer> {
    const c = this.client;
    const req = {
      role: change.role === 'leader' ? StorageRole.STORAGE_ROLE_LEADER : StorageRole.STORAGE_ROLE_REPLICA,
      leader: change.role === 'replica' ? change.leader : '',
      term: change.term,
      durability: WIRE_DURABILITY[change.durability] ?? WriteDurability.WRITE_DURABILITY_UNSPECIFIED,
      syncQuorum: change.syncQuorum,
      handOverMs: change.handOverMs ?? 0,
    };
    return fromWire((await unary(c.setRole, c, req, this.token, timeoutMs)).status);
  }

  /**
   * RenewLease: the leader of `term` may take writes for `leaseMs` from when it receives the call,
   * and no later than the call's deadline, which is the same instant as seen from here: a renewal
   * that leaves late grants no more. @returns the lease granted (0: the node has none)
   * @throws the node's refusal (FAILED_PRECONDITION: not leading `term`) or the call's error
   */
  async renewLease(term: number, leaseMs: number): Promise<number> {
    const c = this.client;
    return (await unary(c.renewLease, c, { term, leaseMs }, this.token, leaseMs)).leaseMs;
  }

  close(): void {
    this.client.close();
  }
}
