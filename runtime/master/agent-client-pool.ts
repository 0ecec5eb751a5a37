import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { DEFAULT_RETRY, withRetry, type RetryOptions, type TlsSource } from '../../client/transport.js';
import type { ConfigureRequest, NodeView, SpawnRequest, StopRequest } from '../common/grid-types.js';
import { stopCallDeadlineMs } from '../common/stop-grace.js';
import { AgentConnection } from './agent-connection.js';

/** Per-call deadlines of master -> agent calls (ms). */
export interface AgentCallDeadlines {
  readonly spawnMs: number;
  /** Margin on top of the stop's grace (the requested one, else the agent's default). */
  readonly stopMs: number;
  readonly statusMs: number;
  /** ConfigureNode: the agent's SetRole on the node (a durable term.json write). @default 10000 */
  readonly configureMs?: number;
}

/** spawn 30 s, stop the grace plus 10 s, status (and list) 5 s. */
export const DEFAULT_AGENT_DEADLINES: AgentCallDeadlines = { spawnMs: 30_000, stopMs: 10_000, statusMs: 5_000 };

/**
 * Statuses that say the connection itself failed; only these drop the cached client. A missed
 * deadline is one call's fate (a slow stop, a hung agent's queue): closing the channel for it would
 * fail or re-dial the sibling calls sharing it, each then retried with a fresh deadline.
 */
const CHANNEL_FAULTS = new Set<number>([GrpcStatus.UNAVAILABLE]);

interface Pooled {
  readonly address: string;
  readonly client: AgentConnection;
}

/**
 * One gRPC client per agent, reused across calls. A client whose call failed because the connection
 * did (UNAVAILABLE) is closed and dropped, so the next call dials afresh (the agent may have restarted on the
 * same address). Retries only retryable statuses (see `isRetryableStatus`), with backoff.
 */
export class AgentClientPool {
  private readonly clients = new Map<string, Pooled>();
  private readonly token: string | undefined;
  private readonly deadlines: AgentCallDeadlines;
  private readonly retry: RetryOptions;
  private tls: TlsSource | undefined;

  constructor(token: string | undefined, deadlines: AgentCallDeadlines = DEFAULT_AGENT_DEADLINES, retry: RetryOptions = DEFAULT_RETRY) {
    this.token = token;
    this.deadlines = deadlines;
    this.retry = retry;
  }

  /** Asks the agent to spawn a node (deadline: spawn). */
  spawnNode(agentId: string, address: string, req: SpawnRequest): Promise<NodeView> {
    return this.call(agentId, address, this.deadlines.spawnMs, (c, ms) => c.spawn(req, ms));
  }

  /**
   * Asks the agent to stop a node. The deadline is the grace (the requested one, else the agent's
   * default) plus the stop margin: longer than the agent's own SIGKILL bound, so a stop that
   * succeeds slowly is never reported as failed.
   */
  stopNode(agentId: string, address: string, req: StopRequest): Promise<NodeView> {
    return this.call(agentId, address, stopCallDeadlineMs(req.graceMs, this.deadlines.stopMs), (c, ms) => c.stop(req, ms));
  }

  /** Asks the agent for one node's live status (deadline: status). */
  getNodeStatus(agentId: string, address: string, req: { readonly nodeId: string }): Promise<NodeView> {
    return this.call(agentId, address, this.deadlines.statusMs, (c, ms) => c.status(req.nodeId, ms));
  }

  /** Asks the agent to change a node's replication role, leader or term (deadline: configure). */
  configureNode(agentId: string, address: string, req: ConfigureRequest): Promise<NodeView> {
    return this.call(agentId, address, this.deadlines.configureMs ?? 10_000, (c, ms) => c.configure(req, ms));
  }

  /** Asks the agent for all its nodes (deadline: status). */
  listNodes(agentId: string, address: string): Promise<NodeView[]> {
    return this.call(agentId, address, this.deadlines.statusMs, (c, ms) => c.list(ms));
  }

  /** Dials agents with mutual TLS from now on (the master's certificate from `source`). */
  useTls(source: TlsSource): void {
    this.tls = source;
    this.close();
  }

  /** Closes and drops the agent's client, if any. */
  invalidate(agentId: string): void {
    const pooled = this.clients.get(agentId);
    if (pooled === undefined) return;
    this.clients.delete(agentId);
    pooled.client.close();
  }

  /** Closes every client. */
  close(): void {
    for (const id of [...this.clients.keys()]) this.invalidate(id);
  }

  /** Number of cached clients (for tests and metrics). */
  get size(): number {
    return this.clients.size;
  }

  private client(agentId: string, address: string): AgentConnection {
    const pooled = this.clients.get(agentId);
    if (pooled !== undefined && pooled.address === address) return pooled.client;
    // The agent moved (re-registered with another address): the old channel is useless.
    if (pooled !== undefined) this.invalidate(agentId);
    const client = new AgentConnection(agentId, address, this.token, this.tls);
    this.clients.set(agentId, { address, client });
    return client;
  }

  private call<T>(agentId: string, address: string, deadlineMs: number, fn: (c: AgentConnection, ms: number) => Promise<T>): Promise<T> {
    return withRetry(async () => {
      try {
        return await fn(this.client(agentId, address), deadlineMs);
      } catch (err) {
        if (CHANNEL_FAULTS.has((err as ServiceError).code)) this.invalidate(agentId);
        throw err;
      }
    }, this.retry);
  }
}
