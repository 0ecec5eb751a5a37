/**
 * The simulated agents' side of the wire for bench/heartbeat.bench.ts: CHANNELS client channels
 * multiplexing all agent ids (one process cannot hold thousands of real agents' connections),
 * agent i always on channel i % CHANNELS, as a real agent holds one connection.
 */
import { GridMasterClient } from '../proto/gen/sutra/grid/v1/grid.pb.js';
import { insecureCredentials, unary } from '../client/index.js';
import { HeartbeatStream } from '../runtime/agent/heartbeat-stream.js';
import { heartbeatCall } from '../runtime/agent/master-connection.js';
import { agentInfo, CHANNELS, nodesOf } from './paced-heartbeats.js';

/**
 * How beats travel: `stream` is what agents do (one HeartbeatStream each, a message per beat);
 * `unary` is one Heartbeat call per beat, measured beside it as the baseline.
 */
export type Mode = 'stream' | 'unary';

/** Sends the beats of the agents one isolate simulates. */
export interface SimulatedAgents {
  /** Sends a beat of agent `i`: its registration when `registration`. */
  readonly send: (i: number, registration: boolean) => Promise<unknown>;
  /** Closes every stream and channel. */
  readonly close: () => void;
}

/**
 * The agents of `agents` this isolate beats for, talking to `address`. Channels open on their
 * first agent's beat, so a worker thread owning a share of the agents holds only its channels.
 */
export function simulatedAgents(address: string, agents: number, mode: Mode): SimulatedAgents {
  const clients: Array<GridMasterClient | undefined> = [];
  const channel = (i: number): GridMasterClient => {
    const c = i % CHANNELS;
    // A local subchannel pool per client gives each its own TCP connection; channelz bookkeeping off
    // keeps the client's per-call cost (which competes with the master for the same cores) down.
    return (clients[c] ??= new GridMasterClient(address, insecureCredentials, { 'grpc.use_local_subchannel_pool': 1, 'grpc.enable_channelz': 0, 'grpc.bench_channel': c }));
  };
  const ids = Array.from({ length: agents }, (_, i) => `agent-${String(i).padStart(5, '0')}`);
  // Each isolate builds only its own agents' node lists.
  const nodes: Array<ReturnType<typeof nodesOf> | undefined> = [];
  const streams = new Map<string, HeartbeatStream>();
  return {
    send: (i, registration) => {
      const agentId = ids[i]!;
      const c = channel(i);
      const beatNodes = (nodes[i] ??= nodesOf(agentId));
      if (registration) return unary(c.registerAgent, c, { agent: agentInfo(agentId), nodes: beatNodes }, undefined, 10_000);
      return mode === 'unary' ? unary(c.heartbeat, c, { agentId, nodes: beatNodes }, undefined, 10_000) : beatOnStream(streams, agentId, c, beatNodes);
    },
    close: () => {
      for (const st of streams.values()) st.close();
      for (const c of clients) c?.close();
    },
  };
}

/**
 * One beat on the agent's stream, opened on its first beat. A stream is broken for good by any
 * error (a beat not answered in time on an overloaded machine): as a real agent does, the next
 * beat opens a new one, so one slow moment costs its own beats, not every later one.
 */
function beatOnStream(streams: Map<string, HeartbeatStream>, agentId: string, c: GridMasterClient, beatNodes: ReturnType<typeof nodesOf>): Promise<unknown> {
  let st = streams.get(agentId);
  if (st === undefined) streams.set(agentId, (st = new HeartbeatStream(heartbeatCall(c, undefined))));
  const stream = st;
  return stream.send({ agentId, nodes: beatNodes }, 10_000).catch((err: unknown) => {
    if (streams.get(agentId) === stream) {
      streams.delete(agentId);
      stream.close();
    }
    throw err;
  });
}
