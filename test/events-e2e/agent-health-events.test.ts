/**
 * Agent health as events: a real agent process frozen with SIGSTOP goes degraded then offline,
 * SIGCONT brings it back (recovered), SIGTERM makes it unregister.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent } from '../helpers/agent-processes.js';
import { cleanup, startMaster } from '../helpers/processes.js';
import { EventsClient, FAST_MASTER } from './support.js';

const clients: EventsClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await cleanup();
});

describe('agent health events', () => {
  it('SIGSTOP: degraded, then offline; SIGCONT: recovered; SIGTERM: unregistered', async () => {
    const master = await startMaster({ args: FAST_MASTER });
    const agent = await startAgent({ master: master.address });
    const c = new EventsClient(master.address);
    clients.push(c);
    const mine = { agentId: agent.id };
    await c.waitFor('AgentRegistered', () => true, 10_000, mine);

    // WHEN the agent process is frozen (it keeps its sockets, it just stops answering)
    process.kill(agent.pid, 'SIGSTOP');
    try {
      const degraded = await c.waitFor('AgentDegraded', () => true, 10_000, mine);
      expect(degraded.severity).toBe('warning');
      expect(degraded.payload['sinceHeartbeatMs']).toBeGreaterThanOrEqual(800);
      const offline = await c.waitFor('AgentOffline', () => true, 10_000, mine);
      expect(offline.severity).toBe('error');
      expect(offline.payload['sinceHeartbeatMs']).toBeGreaterThanOrEqual(1600);
      expect(offline.index).toBeGreaterThan(degraded.index);
    } finally {
      process.kill(agent.pid, 'SIGCONT');
    }

    // THEN thawing it recovers it, saying how long it was away
    const recovered = await c.waitFor('AgentRecovered', () => true, 10_000, mine);
    expect(recovered.severity).toBe('info');
    expect(recovered.payload['downForMs']).toBeGreaterThanOrEqual(1600);
    expect((await c.clusterStatus()).agentsHealthy).toBe(1);

    // WHEN the agent is stopped gracefully it unregisters
    await agent.stop('SIGTERM');
    const gone = await c.waitFor('AgentUnregistered', () => true, 10_000, mine);
    expect(gone.payload).toEqual({ reason: 'agent unregistered' });

    // Exactly one of each transition, in the order they happened.
    const ladder = (await c.list(mine)).map((e) => e.type).filter((t) => t !== 'AgentHeartbeat');
    expect(ladder).toEqual(['AgentRegistered', 'AgentDegraded', 'AgentOffline', 'AgentRecovered', 'AgentUnregistered']);
  });
});
