import { GridAgentClient, type NodeInfo } from '../../proto/gen/sutra/grid/v1/agent.pb.js';
import { clientChannelOptions, insecureCredentials, tlsChannelCredentials, TLS_CHANNEL_OPTIONS, unary, type TlsSource } from '../../client/transport.js';
import type { ConfigureRequest, NodeView, SpawnRequest, StopRequest } from '../common/grid-types.js';
import { configureToWire, nodeFromWire, spawnToWire } from '../common/grid-wire.js';
import { RuntimeError } from '../errors.js';

/**
 * The master's calls to one agent, in domain terms: the one place the master speaks the GridAgent
 * wire. Failures are the calls' own gRPC errors (`code`, `details`); an answer without its node is
 * INTERNAL naming the agent.
 */
export class AgentConnection {
  private readonly client: GridAgentClient;

  constructor(
    private readonly agentId: string,
    address: string,
    private readonly token: string | undefined,
    tls?: TlsSource,
  ) {
    // With TLS, the agent at `address` must present the certificate of this agent id: a
    // re-registration at another address cannot redirect the master to a host that is not it.
    this.client =
      tls === undefined
        ? new GridAgentClient(address, insecureCredentials, clientChannelOptions())
        : new GridAgentClient(address, tlsChannelCredentials(tls, { role: 'agent', name: agentId }), clientChannelOptions(TLS_CHANNEL_OPTIONS));
  }

  /** SpawnNode. */
  async spawn(req: SpawnRequest, timeoutMs: number): Promise<NodeView> {
    const c = this.client;
    return this.answered((await unary(c.spawnNode, c, spawnToWire(req), this.token, timeoutMs)).node);
  }

  /** StopNode. */
  async stop(req: StopRequest, timeoutMs: number): Promise<NodeView> {
    const c = this.client;
    return this.answered((await unary(c.stopNode, c, { nodeId: req.nodeId, graceMs: req.graceMs }, this.token, timeoutMs)).node);
  }

  /** GetNodeStatus. */
  async status(nodeId: string, timeoutMs: number): Promise<NodeView> {
    const c = this.client;
    return this.answered((await unary(c.getNodeStatus, c, { nodeId }, this.token, timeoutMs)).node);
  }

  /** ConfigureNode. */
  async configure(req: ConfigureRequest, timeoutMs: number): Promise<NodeView> {
    const c = this.client;
    return this.answered((await unary(c.configureNode, c, configureToWire(req), this.token, timeoutMs)).node);
  }

  /** ListNodes. */
  async list(timeoutMs: number): Promise<NodeView[]> {
    const c = this.client;
    return (await unary(c.listNodes, c, {}, this.token, timeoutMs)).nodes.map(nodeFromWire);
  }

  /** Closes the channel. */
  close(): void {
    this.client.close();
  }

  private answered(node: NodeInfo | undefined): NodeView {
    if (node === undefined) throw new RuntimeError('INTERNAL', `agent "${this.agentId}" answered without a node`, { agentId: this.agentId });
    return nodeFromWire(node);
  }
}
