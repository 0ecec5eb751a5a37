import { makeGenericClientConstructor, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import {
  HeartbeatRequest,
  HeartbeatResponse,
  RegisterAgentRequest,
  RegisterAgentResponse,
  ReportNodeEventsRequest,
  ReportNodeEventsResponse,
  UnregisterAgentRequest,
  UnregisterAgentResponse,
  type GridMasterClient,
} from '../../proto/gen/sutra/grid/v1/grid.pb.js';
import { authMetadata, clientChannelOptions, insecureCredentials, tlsChannelCredentials, TLS_CHANNEL_OPTIONS, unary, type TlsSource } from '../../client/transport.js';
import type { AgentBeat, AgentDescriptor, BeatAnswer, NodeEvent, NodeView, Registration } from '../common/grid-types.js';
import { agentToWire, beatAnswerFromWire, beatToWire, nodeEventToWire, nodeToWire, registrationFromWire } from '../common/grid-wire.js';
import { HeartbeatStream, type OpenBeatCall } from './heartbeat-stream.js';

/*
 * The client of the five GridMaster methods an agent calls. The generated GridMasterClient is made
 * from the whole GridMaster service, so it names every request and response of the master's API
 * (~75 KB of an agent's ~100 KB of generated code); this one names only the agent's messages,
 * which keeps the rest out of the agent's bundle (issue 17). Each method is the generated one's
 * path and codec: test/agent/master-connection.test.ts checks them against GridMasterService, so a
 * change of the .proto cannot leave them behind.
 */

/** A generated message's codec (ts-proto's MessageFns, reduced to what a method needs). */
interface Codec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
}

function method<Req, Res>(name: string, req: Codec<Req>, res: Codec<Res>, stream = false) {
  return {
    path: `/sutra.grid.v1.GridMaster/${name}`,
    requestStream: stream,
    responseStream: stream,
    requestSerialize: (value: Req): Buffer => Buffer.from(req.encode(value).finish()),
    requestDeserialize: (value: Buffer): Req => req.decode(value),
    responseSerialize: (value: Res): Buffer => Buffer.from(res.encode(value).finish()),
    responseDeserialize: (value: Buffer): Res => res.decode(value),
  };
}

/** The agent's part of the GridMaster service, method for method as the generated GridMasterService. */
export const AGENT_MASTER_METHODS = {
  registerAgent: method('RegisterAgent', RegisterAgentRequest, RegisterAgentResponse),
  heartbeat: method('Heartbeat', HeartbeatRequest, HeartbeatResponse),
  heartbeatStream: method('HeartbeatStream', HeartbeatRequest, HeartbeatResponse, true),
  unregisterAgent: method('UnregisterAgent', UnregisterAgentRequest, UnregisterAgentResponse),
  reportNodeEvents: method('ReportNodeEvents', ReportNodeEventsRequest, ReportNodeEventsResponse),
} satisfies ServiceDefinition;

/** What an agent calls on its master: the generated client's methods of {@link AGENT_MASTER_METHODS}. */
export type AgentMasterClient = Pick<GridMasterClient, keyof typeof AGENT_MASTER_METHODS | 'close'>;

/** The constructor of {@link AgentMasterClient} (grpc-js' generic client, as the generated one is). */
export const AgentMasterClient = makeGenericClientConstructor(AGENT_MASTER_METHODS, 'sutra.grid.v1.GridMaster') as unknown as new (
  ...args: ConstructorParameters<typeof GridMasterClient>
) => AgentMasterClient;

/**
 * The agent's calls to its master, in domain terms: the one place the agent speaks the GridMaster
 * wire. Failures are the calls' own gRPC errors (`code`, `details`), for the link to act on.
 */
export class MasterConnection {
  #client: AgentMasterClient;
  /** Channels replaced after a certificate renewal, closed with the connection (a stream may still run on one). */
  readonly #retired: AgentMasterClient[] = [];
  #tlsVersion: number;

  constructor(
    private readonly endpoint: string,
    private readonly token: string | undefined,
    private readonly tls?: TlsSource,
  ) {
    this.#tlsVersion = tls?.version ?? 0;
    this.#client = this.dial();
  }

  private dial(): AgentMasterClient {
    const tls = this.tls;
    return new AgentMasterClient(
      this.endpoint,
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

  /**
   * The channel for the next call: after a certificate renewal a new one, since an open connection
   * keeps the certificate it was made with and the master refuses an expired one on every call.
   */
  private get client(): AgentMasterClient {
    if (this.tls !== undefined && this.tls.version !== this.#tlsVersion) {
      this.#tlsVersion = this.tls.version;
      this.#retired.push(this.#client);
      this.#client = this.dial();
    }
    return this.#client;
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

  /** Closes the channels. */
  close(): void {
    this.#client.close();
    for (const c of this.#retired.splice(0)) c.close();
  }
}

/** The HeartbeatStream call of a generated client, beats and answers converted at this edge. */
export function heartbeatCall(client: AgentMasterClient, token: string | undefined): OpenBeatCall {
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
