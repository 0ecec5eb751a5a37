import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { AgentPolicy, HeartbeatRequest, HeartbeatResponse } from '../../../proto/gen/sutra/grid/v1/grid.pb.js';
import { RuntimeError } from '../../errors.js';
import { toServiceError } from '../../common/grpc-server.js';
import { emitSafely } from '../master-events.js';
import type { MasterContext, MasterHandlers } from '../master-context.js';
import type { PolicyInForce } from '../policy-in-force.js';
import { requireId } from './request-checks.js';

type AgentHandlers = Pick<MasterHandlers, 'registerAgent' | 'heartbeat' | 'heartbeatStream' | 'unregisterAgent'>;

/** RegisterAgent, Heartbeat, UnregisterAgent: the agents' side of the protocol. */
export function createAgentHandlers(ctx: MasterContext): AgentHandlers {
  const { registry, logger, events } = ctx;
  const onListenerError = (err: unknown): void => logger.error({ err }, 'a master event listener threw; ignored');
  /** One heartbeat, whether it came as a unary call or on a stream. */
  const heartbeat = (req: HeartbeatRequest): HeartbeatResponse => {
    const recovered = registry.heartbeat(requireId('agent_id', req.agentId), req.nodes, Date.now());
    if (recovered !== undefined) {
      logger.info({ agentId: req.agentId, from: recovered.from, silentForMs: recovered.silentForMs }, `agent ${req.agentId} recovered (was ${recovered.from} for ${recovered.silentForMs} ms of silence)`);
      emitSafely(events, 'agentRecovered', { agentId: req.agentId, previous: recovered.from, silentForMs: recovered.silentForMs }, onListenerError);
    }
    emitSafely(events, 'agentHeartbeat', { agentId: req.agentId, nodes: req.nodes.length }, onListenerError);
    const policy = ctx.policy();
    return { heartbeatIntervalMs: policy.heartbeatIntervalMs, policy: toWirePolicy(policy) };
  };
  return {
    registerAgent(req) {
      if (req.agent === undefined) throw new RuntimeError('INVALID_ARGUMENT', 'agent: is required', { field: 'agent' });
      const info = req.agent;
      requireId('agent.agent_id', info.agentId);
      const { known, previous } = registry.register(info, req.nodes, Date.now());
      // A re-registration keeps the agent's pooled client only if its address did not change;
      // the pool checks that itself on the next call.
      logger.info(
        { agentId: info.agentId, address: info.address, platform: info.platform, nodes: req.nodes.length, reregistered: known },
        known
          ? `agent ${info.agentId} re-registered from ${info.address} with ${req.nodes.length} node(s)`
          : `agent ${info.agentId} registered from ${info.address} (${info.platform}, max ${info.capacity?.maxNodes ?? 0} nodes) with ${req.nodes.length} node(s)`,
      );
      emitSafely(events, 'agentRegistered', { agentId: info.agentId, hostname: info.hostname, address: info.address, platform: info.platform, reregistered: known, nodes: req.nodes.length }, onListenerError);
      if (previous !== undefined && previous !== 'healthy') {
        emitSafely(events, 'agentRecovered', { agentId: info.agentId, previous, silentForMs: 0 }, onListenerError);
      }
      const policy = ctx.policy();
      return { heartbeatIntervalMs: policy.heartbeatIntervalMs, masterId: ctx.masterId, policy: toWirePolicy(policy) };
    },

    heartbeat,

    heartbeatStream(call: ServerDuplexStream<HeartbeatRequest, HeartbeatResponse>) {
      let ended = false;
      const endWith = (err: unknown): void => {
        if (ended) return;
        ended = true;
        ctx.stopping.removeEventListener('abort', onStopping);
        call.emit('error', toServiceError(err));
      };
      // A stopping master ends every stream at once, telling the agent why: the server's graceful
      // shutdown waits for open streams, and these never end on their own.
      const onStopping = (): void => endWith(new RuntimeError('AGENT_UNAVAILABLE', 'master is shutting down; reconnect and register again'));
      if (ctx.stopping.aborted) {
        onStopping();
        return;
      }
      ctx.stopping.addEventListener('abort', onStopping, { once: true });
      call.on('data', (req: HeartbeatRequest) => {
        if (ended) return;
        try {
          call.write(heartbeat(req));
        } catch (err) {
          // Unknown agent (master restarted): NOT_FOUND ends the stream and the agent re-registers.
          endWith(err);
        }
      });
      const release = (): void => {
        ended = true;
        ctx.stopping.removeEventListener('abort', onStopping);
      };
      call.on('end', () => {
        release();
        call.end();
      });
      call.on('cancelled', release);
      call.on('close', release);
      call.on('error', () => undefined);
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

/**
 * The policy as agents receive it: only what an applied spec says is set, so an agent tells "no
 * spec, use your own config" from a spec's values.
 */
function toWirePolicy(p: PolicyInForce): AgentPolicy {
  if (p.spec === undefined) return { generation: p.generation };
  const r = p.spec.restart;
  return {
    generation: p.generation,
    heartbeatIntervalMs: p.spec.heartbeatIntervalMs,
    maxRestarts: r.maxRestarts,
    restartWindowMs: r.windowMs,
    restartBackoffMs: r.backoffMs,
  };
}
