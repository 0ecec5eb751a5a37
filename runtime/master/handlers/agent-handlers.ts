import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { HeartbeatRequest, HeartbeatResponse } from '../../../proto/gen/sutra/grid/v1/grid.pb.js';
import { RuntimeError } from '../../errors.js';
import { toServiceError } from '../../common/grpc-server.js';
import { agentFromWire, beatAnswerToWire, beatFromWire, nodeFromWire, registrationToWire } from '../../common/grid-wire.js';
import { emitSafely } from '../master-events.js';
import { observe } from '../master-metrics.js';
import type { MasterContext } from '../master-context.js';
import { agentPolicyOf } from '../policy-in-force.js';
import type { MasterHandlers } from './master-handlers.js';

const NONE: readonly string[] = [];
import { requireId } from './request-checks.js';
import { releaseDecodedMessage, shedStreamState } from './lean-stream.js';

type AgentHandlers = Pick<MasterHandlers, 'registerAgent' | 'heartbeat' | 'heartbeatStream' | 'unregisterAgent'>;

/** RegisterAgent, Heartbeat, UnregisterAgent: the agents' side of the protocol. */
export function createAgentHandlers(ctx: MasterContext): AgentHandlers {
  const { registry, logger, events } = ctx;
  const onListenerError = (err: unknown): void => logger.error({ err }, 'a master event listener threw; ignored');
  /** One heartbeat, whether it came as a unary call or on a stream. */
  const heartbeat = (req: HeartbeatRequest): HeartbeatResponse => {
    // A stream opened while this master led goes on after it stops leading: each beat is refused
    // then, naming the leader, so the agent moves there and registers.
    ctx.mayServe?.('heartbeatStream');
    const agentId = requireId('agent_id', req.agentId);
    const beat = beatFromWire(req);
    const now = Date.now();
    const previousMs = registry.get(agentId)?.lastHeartbeatMs;
    const recovered = registry.heartbeat(agentId, beat.nodes, now);
    if (previousMs !== undefined && previousMs > 0) observe(ctx.metrics, 'heartbeat', { agentId, intervalSeconds: (now - previousMs) / 1000 });
    if (recovered !== undefined) {
      logger.info({ agentId, from: recovered.from, silentForMs: recovered.silentForMs }, `agent ${agentId} recovered (was ${recovered.from} for ${recovered.silentForMs} ms of silence)`);
      emitSafely(events, 'agentRecovered', { agentId, previous: recovered.from, silentForMs: recovered.silentForMs }, onListenerError);
    }
    emitSafely(events, 'agentHeartbeat', { agentId, nodes: beat.nodes.length }, onListenerError);
    const policy = ctx.policy();
    return beatAnswerToWire({ heartbeatIntervalMs: policy.heartbeatIntervalMs, policy: agentPolicyOf(policy), revokedNodeSerials: ctx.revokedNodeSerials?.() ?? NONE });
  };
  // One set and one abort listener for all streams, and handlers shared by them (`this` is the
  // stream): with 10,000 agents, per-stream closures and listeners were a measurable part of the
  // master's heap. A stream in the set is open; leaving it (end, cancel, close, error) is final.
  const openStreams = new Set<ServerDuplexStream<HeartbeatRequest, HeartbeatResponse>>();
  const endStream = (call: ServerDuplexStream<HeartbeatRequest, HeartbeatResponse>, err: unknown): void => {
    openStreams.delete(call);
    call.emit('error', toServiceError(err));
  };
  const stoppingError = (): RuntimeError => new RuntimeError('AGENT_UNAVAILABLE', 'master is shutting down; reconnect and register again');
  // A stopping master ends every stream at once, telling the agent why: the server's graceful
  // shutdown waits for open streams, and these never end on their own.
  const onStopping = (): void => {
    for (const call of [...openStreams]) endStream(call, stoppingError());
  };
  if (!ctx.stopping.aborted) ctx.stopping.addEventListener('abort', onStopping, { once: true });
  function onBeat(this: ServerDuplexStream<HeartbeatRequest, HeartbeatResponse>, req: HeartbeatRequest): void {
    if (!openStreams.has(this)) return;
    try {
      this.write(heartbeat(req));
      // Else grpc-js keeps this beat's bytes until the next one, 5 s on: see lean-stream.ts.
      releaseDecodedMessage(this);
    } catch (err) {
      // Unknown agent (master restarted): NOT_FOUND ends the stream and the agent re-registers.
      endStream(this, err);
    }
  }
  function onEnd(this: ServerDuplexStream<HeartbeatRequest, HeartbeatResponse>): void {
    openStreams.delete(this);
    this.end();
  }
  function onGone(this: ServerDuplexStream<HeartbeatRequest, HeartbeatResponse>): void {
    openStreams.delete(this);
  }
  return {
    registerAgent(req) {
      if (req.agent === undefined) throw new RuntimeError('INVALID_ARGUMENT', 'agent: is required', { field: 'agent' });
      requireId('agent.agent_id', req.agent.agentId);
      const info = agentFromWire(req.agent);
      const { known, previous } = registry.register(info, req.nodes.map(nodeFromWire), Date.now());
      // A re-registration keeps the agent's pooled client only if its address did not change;
      // the pool checks that itself on the next call.
      logger.info(
        { agentId: info.agentId, address: info.address, platform: info.platform, nodes: req.nodes.length, reregistered: known },
        known
          ? `agent ${info.agentId} re-registered from ${info.address} with ${req.nodes.length} node(s)`
          : `agent ${info.agentId} registered from ${info.address} (${info.platform}, max ${info.capacity.maxNodes} nodes) with ${req.nodes.length} node(s)`,
      );
      emitSafely(events, 'agentRegistered', { agentId: info.agentId, hostname: info.hostname, address: info.address, platform: info.platform, reregistered: known, nodes: req.nodes.length }, onListenerError);
      if (previous !== undefined && previous !== 'healthy') {
        emitSafely(events, 'agentRecovered', { agentId: info.agentId, previous, silentForMs: 0 }, onListenerError);
      }
      const policy = ctx.policy();
      return registrationToWire({ heartbeatIntervalMs: policy.heartbeatIntervalMs, masterId: ctx.masterId, policy: agentPolicyOf(policy), revokedNodeSerials: ctx.revokedNodeSerials?.() ?? NONE });
    },

    heartbeat,

    heartbeatStream(call: ServerDuplexStream<HeartbeatRequest, HeartbeatResponse>) {
      if (ctx.stopping.aborted) {
        endStream(call, stoppingError());
        return;
      }
      openStreams.add(call);
      shedStreamState(call);
      call.on('data', onBeat);
      call.on('end', onEnd);
      call.on('cancelled', onGone);
      call.on('close', onGone);
      // No 'error' listener of ours: grpc-js's own (it turns the error into the call's status) is
      // always there, and a second one would be an array per stream.
    },

    unregisterAgent(req) {
      if (!registry.unregister(requireId('agent_id', req.agentId))) {
        throw new RuntimeError('AGENT_NOT_FOUND', `agent "${req.agentId}" not found`, { agentId: req.agentId });
      }
      ctx.pool.invalidate(req.agentId);
      logger.info({ agentId: req.agentId }, `agent ${req.agentId} unregistered`);
      emitSafely(events, 'agentUnregistered', { agentId: req.agentId }, onListenerError);
      return {};
    },
  };
}
