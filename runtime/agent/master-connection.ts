import type { ServiceError } from '@grpc/grpc-js';
import { GridMasterClient, type HeartbeatResponse } from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { authMetadata, clientChannelOptions, insecureCredentials, tlsChannelCredentials, TLS_CHANNEL_OPTIONS, unary, type TlsSource } from '../../client/transport.js';
import type { AgentBeat, AgentDescriptor, BeatAnswer, NodeEvent, NodeView, Registration } from '../common/grid-types.js';
import { agentToWire, beatAnswerFromWire, beatToWire, nodeEventToWire, nodeToWire, registrationFromWire } from '../common/grid-wire.js';
import { HeartbeatStream, type OpenBeatCall } from './heartbeat-stream.js';

/**
 * The agent's calls to its master, in domain terms: the one place the agent speaks the GridMaster
 * wire. Failures are the calls' own gRPC errors (`code`, `details`), for the link to act on.
 */
export class MasterConnection {
  private readonly client: GridMasterClient;

  constructor(
    endpoint: string,
    private readonly token: string | undefined,
    tls?: TlsSource,
  ) {
    this.client = new GridMasterClient(
      endpoint,
      // With TLS, only a certificate of the master role passes, whatever address it is reached at.
      tls === undefined ? insecureCredentials : tlsChannelCredentials(tls, { role: 'master' }),
      clientChannelOptions({
        // Reconnect promptly when the master comes back instead of grpc-js' default up-to-120 s backoff.
        'grpc.max_reconnect_backoff_ms': 1000,
        'grpc.initial_reconnect_backoff_ms': 100,
        ...(tls === undefined ? {} : TLS_CHANNEL_OPTIONS),
      }),
    );
  }

  /** RegisterAgent with the nodes the agent already runs. */
  async register(agent: AgentDescriptor, nodes: readonly NodeView[], timeoutMs: number): Promise<Registration> {
    const c = this.client;
    return registrationFromWire(await unary(c.registerAgent, c, { agent: agentToWire(agent), nodes: nodes.map(nodeToWire) }, this.token, timeoutMs));
  }

  /** One unary Heartbeat (for a master without HeartbeatStream). */
  async heartbeat(beat: AgentBeat, timeoutMs: number): Promise<BeatAnswer> {
    const c = this.client;
    return beatAnswerFromWire(await unary(c.heartbeat, c, beatToWire(beat), this.token, timeoutMs));
  }

  /** Opens a HeartbeatStream; `onBroken` as in {@link HeartbeatStream}. */
  heartbeatStream(onBroken: (err: ServiceError) => void): HeartbeatStream {
    return new HeartbeatStream(heartbeatCall(this.client, this.token), onBroken);
  }

  /** ReportNodeEvents: the events as this agent saw them. */
  async reportNodeEvents(agentId: string, events: readonly NodeEvent[], timeoutMs: number): Promise<void> {
    const c = this.client;
    await unary(c.reportNodeEvents, c, { agentId, events: events.map((e) => nodeEventToWire(agentId, e)) }, this.token, timeoutMs);
  }

  /** UnregisterAgent. */
  async unregister(agentId: string, timeoutMs: number): Promise<void> {
    const c = this.client;
    await unary(c.unregisterAgent, c, { agentId }, this.token, timeoutMs);
  }

  /** Closes the channel. */
  close(): void {
    this.client.close();
  }
}

/** The HeartbeatStream call of a generated client, beats and answers converted at this edge. */
export function heartbeatCall(client: GridMasterClient, token: string | undefined): OpenBeatCall {
  return (listeners) => {
    const call = client.heartbeatStream(authMetadata(token));
    call.on('data', (res: HeartbeatResponse) => listeners.answer(beatAnswerFromWire(res)));
    call.on('error', (err: ServiceError) => listeners.error(err));
    call.on('end', () => listeners.end());
    return {
      write: (beat) => void call.write(beatToWire(beat)),
      cancel: () => call.cancel(),
    };
  };
}
