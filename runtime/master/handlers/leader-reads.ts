/**
 * Reads a follower forwards to the leader (issue 15). A follower hears from no agent, so what only
 * the leader knows (live agents and nodes, their status, plans placed on them) it asks the leader
 * for, as itself: with TLS its own certificate (role `master`, which may read), else the shared
 * token. The caller's own role was checked here already.
 */
import { Client, type ChannelCredentials } from '@grpc/grpc-js';
import { GridMasterService } from '../../../proto/gen/sutra/grid/v1/grid.pb.js';
import { authMetadata, clientChannelOptions, deadline, TLS_CHANNEL_OPTIONS } from '../../../client/transport.js';
import type { Leadership } from '../leadership.js';

/** The unary reads a follower forwards; ApplySpec only as a dry run (a plan). */
const FORWARDED: ReadonlySet<string> = new Set(['listAgents', 'listNodes', 'getClusterStatus', 'getStorageNodeStatus', 'applySpec']);

/** Marks a forwarded call: a master that no longer leads refuses it instead of passing it on again. */
const FORWARDED_KEY = 'x-sutra-grid-forwarded';

/** Long enough for a plan of a large grid on a busy leader. */
const FORWARD_MS = 15_000;

/** True when a follower answers `rpc` with `request` by asking the leader. */
export function isForwardedRead(rpc: string, request: unknown): boolean {
  if (!FORWARDED.has(rpc)) return false;
  return rpc !== 'applySpec' || (request as { dryRun?: unknown } | null)?.dryRun === true;
}

/** One channel to the leader, dialled again when the leader changes. */
export class LeaderReads {
  #channel: { address: string; client: Client } | undefined;

  constructor(
    private readonly credentials: () => ChannelCredentials,
    private readonly token: string | undefined,
  ) {}

  /** `rpc` with `request` at the leader at `address`; its answer, or its error as it sent it. */
  forward(address: string, rpc: string, request: unknown): Promise<unknown> {
    const method = (GridMasterService as unknown as Record<string, { path: string; requestSerialize(v: unknown): Buffer; responseDeserialize(b: Buffer): unknown }>)[rpc]!;
    const client = this.client(address);
    return new Promise((resolve, reject) => {
      const metadata = authMetadata(this.token);
      metadata.set(FORWARDED_KEY, '1');
      client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, metadata, deadline(FORWARD_MS), (err, res) => (err ? reject(err) : resolve(res)));
    });
  }

  close(): void {
    this.#channel?.client.close();
    this.#channel = undefined;
  }

  private client(address: string): Client {
    if (this.#channel?.address !== address) {
      this.close();
      this.#channel = { address, client: new Client(address, this.credentials(), clientChannelOptions(TLS_CHANNEL_OPTIONS)) };
    }
    return this.#channel.client;
  }
}

/**
 * What a follower does with a call its leadership gate refused: for a forwarded read, the
 * leader's answer (a promise); undefined to refuse it as the gate did. A call forwarded already is
 * never passed on again, so two masters that each think the other leads cannot bounce it.
 */
export function followerReads(leadership: Leadership, reads: LeaderReads): (rpc: string, args: readonly unknown[]) => Promise<unknown> | undefined {
  return (rpc, args) => {
    const [request, call] = args as [unknown, { metadata?: { get(key: string): unknown[] } } | undefined];
    const leader = leadership.leader().address;
    if (leader === '' || !isForwardedRead(rpc, request)) return undefined;
    if ((call?.metadata?.get(FORWARDED_KEY).length ?? 0) > 0) return undefined;
    return reads.forward(leader, rpc, request);
  };
}
